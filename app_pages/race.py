from explorer import page_race

page_race.render()

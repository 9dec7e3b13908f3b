from explorer import page_interpolate

page_interpolate.render()

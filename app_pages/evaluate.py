from explorer import page_evaluate

page_evaluate.render()

from explorer import page_train

page_train.render()

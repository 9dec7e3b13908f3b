from explorer import page_latent

page_latent.render()

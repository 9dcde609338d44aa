# template for cluster projects

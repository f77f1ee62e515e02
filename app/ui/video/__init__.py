"""Video views (OpenGL and QPainter) and the danmaku overlay painted over them."""

"""Widgets and panels that windows are made of (cards, feeds, chat panels, setup panels, co-hosting
picture in picture, hearts). Widgets hold no engine: they show data and emit signals."""

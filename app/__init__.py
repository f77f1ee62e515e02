"""Xiaozhibo Desktop client. Engines (api, capture, push, play, im) never import Qt; ui does."""

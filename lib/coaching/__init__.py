"""Notes, improvement plans, training recommendations, peer reviews and rewards."""

"""The network, its care centers and the staff who work in them."""

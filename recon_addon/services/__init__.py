"""Plain Python logic of the addon: no ORM, no ``env``; tested in milliseconds."""

"""artisto: the product-wide pieces, the command line and the errors every part shares."""

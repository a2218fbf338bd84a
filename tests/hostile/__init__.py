"""The hostile-input corpus: bad release files as data, each with the exact outcome it must get."""

"""IC card drivers: PC/SC readers (``pcsc``) and the OpenPGP card application over them."""

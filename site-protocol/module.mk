# The site protocol: frames between thin clients, the Auth/App server and
# the pool masters (mcd_site, no I/O), launch tickets (mcd_ticket) and the
# TLS legs that carry them (mcd_tls, the only file here using libssl).
SITE_OBJ := $(O)/site-protocol/mcd_site.o
TICKET_OBJ := $(O)/site-protocol/mcd_ticket.o
TLS_OBJ := $(O)/site-protocol/mcd_tls.o
SSL_LIBS := -lssl -lcrypto

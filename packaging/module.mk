# Installing and packaging.  `make install DESTDIR=... PREFIX=/usr` installs
# every part (install-toolstack, install-agent, install-broker and
# install-client one each); `make deb` builds the Debian packages into
# $(O)/deb/ from the same install rules (packaging/mkdeb.sh); `make debtest`
# checks them (tests/packaging/check-debs.sh).
MCD_VERSION := $(shell cat VERSION)
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= /lib/systemd/system
BINDIR = $(PREFIX)/bin
SBINDIR = $(PREFIX)/sbin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/mcd
DOCDIR = $(PREFIX)/share/doc
INSTALL ?= install

# Installed units and scripts name the programs where PREFIX put them.
MCD_PREFIX_SED = sed -e 's|/usr/sbin/|$(SBINDIR)/|g' -e 's|/usr/bin/|$(BINDIR)/|g'

.PHONY: install install-toolstack install-agent install-broker install-client \
	deb debtest
install: install-toolstack install-agent install-broker install-client

install-toolstack: $(O)/bin/mcd-toolstack $(O)/xenstore-schema/mcd-schema-check
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSCONFDIR)/logrotate.d \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(DOCDIR)/mcd-toolstack
	$(INSTALL) -m 0755 $(O)/bin/mcd-toolstack $(DESTDIR)$(SBINDIR)/mcd-toolstack
	$(INSTALL) -m 0755 $(O)/xenstore-schema/mcd-schema-check \
		$(DESTDIR)$(BINDIR)/mcd-schema-check
	sed -e 's|^\(	AGENT_DEFAULT=\)/usr/sbin/|\1$(SBINDIR)/|' \
		-e 's|:-/usr/share/mcd}|:-$(DATADIR)}|' scripts/mcd-bake-template \
		>$(DESTDIR)$(SBINDIR)/mcd-bake-template
	chmod 0755 $(DESTDIR)$(SBINDIR)/mcd-bake-template
	$(INSTALL) -m 0755 guest/linux-agent/mcd-agent.init $(DESTDIR)$(DATADIR)/
	$(INSTALL) -m 0644 \
		guest/linux-agent/mcd-agent.service $(DESTDIR)$(DATADIR)/
	$(MCD_PREFIX_SED) packaging/systemd/mcd-toolstack.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/mcd-toolstack.service
	$(INSTALL) -m 0644 packaging/debian/mcd-toolstack.logrotate \
		$(DESTDIR)$(SYSCONFDIR)/logrotate.d/mcd-toolstack
	$(INSTALL) -m 0644 packaging/man/mcd-schema-check.1 $(DESTDIR)$(MANDIR)/man1/
	$(INSTALL) -m 0644 packaging/man/mcd-toolstack.8 \
		packaging/man/mcd-bake-template.8 $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 xenstore-schema/SCHEMA.md $(DESTDIR)$(DOCDIR)/mcd-toolstack/

install-agent: $(AGENT_BIN)
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/modules-load.d $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0755 $(AGENT_BIN) $(DESTDIR)$(SBINDIR)/mcd-agent
	$(MCD_PREFIX_SED) guest/linux-agent/mcd-agent.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/mcd-agent.service
	$(INSTALL) -m 0644 packaging/systemd/proc-xen.mount $(DESTDIR)$(SYSTEMDUNITDIR)/
	$(INSTALL) -m 0644 packaging/debian/mcd-agent.modules-load \
		$(DESTDIR)$(SYSCONFDIR)/modules-load.d/mcd-agent.conf
	$(INSTALL) -m 0644 packaging/man/mcd-agent.8 $(DESTDIR)$(MANDIR)/man8/

install-broker: $(O)/broker/mcd-broker
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSTEMDUNITDIR) \
		$(DESTDIR)$(SYSCONFDIR)/mcd $(DESTDIR)$(MANDIR)/man8
	$(INSTALL) -m 0755 $(O)/broker/mcd-broker $(DESTDIR)$(SBINDIR)/mcd-broker
	$(INSTALL) -m 0755 scripts/mcd-site-certs $(DESTDIR)$(SBINDIR)/mcd-site-certs
	$(MCD_PREFIX_SED) packaging/systemd/mcd-broker.service \
		>$(DESTDIR)$(SYSTEMDUNITDIR)/mcd-broker.service
	$(INSTALL) -m 0644 packaging/debian/broker.conf $(DESTDIR)$(SYSCONFDIR)/mcd/broker.conf
	$(INSTALL) -m 0644 packaging/man/mcd-broker.8 packaging/man/mcd-site-certs.8 \
		$(DESTDIR)$(MANDIR)/man8/

install-client: $(CLIENT_BIN)
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	$(INSTALL) -m 0755 $(CLIENT_BIN) $(DESTDIR)$(BINDIR)/mcd-client
	$(INSTALL) -m 0644 packaging/man/mcd-client.1 $(DESTDIR)$(MANDIR)/man1/

# The packages' binaries are built apart, in $(O)/deb/obj, with Debian's
# hardening flags (dpkg-buildflags).
deb:
	packaging/mkdeb.sh $(O)/deb

debtest:
	tests/packaging/check-debs.sh $(O)/deb

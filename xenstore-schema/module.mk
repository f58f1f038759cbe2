# The contract: wire format (mcd_proto) shared by dom0, the agents and tests,
# and the live-tree checker.
PROTO_OBJ := $(O)/xenstore-schema/mcd_proto.o

# The checker's core (no I/O), linked into the tool and its unit test.
SCHEMA_OBJ := $(O)/xenstore-schema/mcd_schema.o

BINS += $(O)/xenstore-schema/mcd-schema-check

$(O)/xenstore-schema/mcd-schema-check: $(O)/xenstore-schema/mcd_schema_check.o \
		$(SCHEMA_OBJ) $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS)

# The dom0/agent byte channel (real vchan + socket stand-in).
CHAN_OBJ := $(O)/xenstore-schema/mcd_chan.o

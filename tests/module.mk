# Tests.  One block per test binary: its objects, then `UNIT_TESTS +=`, then
# its link rule.  `make unit` runs every UNIT_TESTS binary; `make fuzz`
# builds and runs the libFuzzer harnesses with clang.

# --- wire format (mcd_proto) ---
UNIT_TESTS += $(O)/tests/unit/test_proto

$(O)/tests/unit/test_proto: $(O)/tests/unit/test_proto.o $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- XenStore layout checker (mcd_schema, the core of mcd-schema-check) ---
UNIT_TESTS += $(O)/tests/unit/test_schema_check

$(O)/tests/unit/test_schema_check: $(O)/tests/unit/test_schema_check.o \
		$(SCHEMA_OBJ) $(PROTO_OBJ)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(CMOCKA_LIBS)

# --- template loader unit test (no Xen needed) ---
TEST_TEMPLATE_OBJS := $(O)/tests/unit/test_template.o \
	$(O)/dom0/mcd-toolstack/template.o
UNIT_TESTS += $(O)/tests/unit/test_template

$(O)/tests/unit/test_template.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_template: $(TEST_TEMPLATE_OBJS)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

# --- mcd-toolstack control framing and record quoting (no Xen needed) ---
UNIT_TESTS += $(O)/tests/unit/test_ctl

$(O)/tests/unit/test_ctl.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_ctl: $(O)/tests/unit/test_ctl.o \
		$(O)/dom0/mcd-toolstack/ctl.o $(O)/dom0/mcd-toolstack/store.o \
		$(O)/dom0/mcd-toolstack/log.o
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

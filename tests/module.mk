
# --- template loader unit test (no Xen needed) ---
TEST_TEMPLATE_OBJS := $(O)/tests/unit/test_template.o \
	$(O)/dom0/mcd-toolstack/template.o
UNIT_TESTS += $(O)/tests/unit/test_template

$(O)/tests/unit/test_template.o: override MCD_CFLAGS += -Idom0/mcd-toolstack

$(O)/tests/unit/test_template: $(TEST_TEMPLATE_OBJS)
	$(CC) $(MCD_CFLAGS) $^ -o $@ $(MCD_LDFLAGS) $(XEN_LIBS) $(CMOCKA_LIBS)

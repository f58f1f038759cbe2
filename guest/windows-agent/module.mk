# The Windows guest agent, mcd-agent.exe, cross-compiled with mingw-w64
# from the same protocol module (mcd_proto.c) and the same state machine
# (guest/linux-agent/agent.c) as the Linux agent.  Its objects go to
# $(O)/win/ with their own rule.  Not built in the sanitizer build
# (SANITIZE=1): mingw has no ASan; the OS-independent part (wincore.c) is
# unit-tested natively there instead (tests/windows/module.mk).
WIN_CC ?= x86_64-w64-mingw32-gcc
WIN_O := $(O)/win
# Windows 10 API level; C99 printf (%zu) from the mingw runtime.
WIN_CFLAGS := -std=gnu11 -Wall -Wextra -Werror -O2 -g \
	-D__USE_MINGW_ANSI_STDIO=1 -D_WIN32_WINNT=0x0A00 -DWINVER=0x0A00 \
	-DUNICODE -D_UNICODE -Ixenstore-schema -Iguest/windows-agent -MMD -MP
WIN_LDFLAGS := -municode -static -static-libgcc
WIN_LIBS := -lws2_32 -lwtsapi32 -luserenv -lmpr -lsetupapi -lshell32 \
	-ladvapi32

WIN_AGENT_SRCS := guest/windows-agent/main.c guest/windows-agent/wloop.c \
	guest/windows-agent/wlaunch.c guest/windows-agent/wchan.c \
	guest/windows-agent/xeniface.c guest/windows-agent/vchan_ring.c \
	guest/windows-agent/wlog.c \
	guest/windows-agent/wincore.c guest/linux-agent/agent.c \
	xenstore-schema/mcd_proto.c
WIN_AGENT_OBJS := $(addprefix $(WIN_O)/,$(WIN_AGENT_SRCS:.c=.o))
WIN_AGENT_EXE := $(O)/guest/mcd-agent.exe

$(WIN_O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) -c $< -o $@

# GCC checks printf formats against the Microsoft runtime on this target,
# which has no %zu; __USE_MINGW_ANSI_STDIO=1 gives mcd_proto.c a C99
# vsnprintf that has it, so only the check is wrong there.
$(WIN_O)/xenstore-schema/mcd_proto.o: WIN_CFLAGS += -Wno-format

$(WIN_AGENT_EXE): $(WIN_AGENT_OBJS)
	@mkdir -p $(dir $@)
	$(WIN_CC) $(WIN_CFLAGS) $^ -o $@ $(WIN_LDFLAGS) $(WIN_LIBS)

ifneq ($(SANITIZE),1)
BINS += $(WIN_AGENT_EXE)
endif
include tests/windows/module.mk

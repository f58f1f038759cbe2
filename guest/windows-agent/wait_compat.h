/*
 * wait_compat.h - the waitpid() status format for the Windows agent.
 *
 * The shared state machine (guest/linux-agent/agent.c) takes an app's end
 * as a waitpid()-style status.  Windows has no such thing, so the Windows
 * launcher builds one with WAIT_EXITED() or WAIT_SIGNALED() (see
 * wincore_exit_status()) and agent.c reads it back with the usual macros.
 * The encoding is the traditional one (exit code in bits 8-15, signal in
 * bits 0-6), and the signal numbers are Linux's, so dom0 sees the same
 * numbers from both agents.
 */
#ifndef MCD_WIN_WAIT_COMPAT_H
#define MCD_WIN_WAIT_COMPAT_H

#include <signal.h>

#ifndef SIGKILL
#define SIGKILL 9
#endif
#ifndef SIGTERM
#define SIGTERM 15
#endif

#define WAIT_EXITED(code) (((code) & 0xff) << 8)
#define WAIT_SIGNALED(sig) ((sig) & 0x7f)

#ifndef WIFEXITED
#define WIFEXITED(s) (((s) & 0x7f) == 0)
#define WEXITSTATUS(s) (((s) >> 8) & 0xff)
#define WIFSIGNALED(s) (((s) & 0x7f) != 0 && ((s) & 0x7f) != 0x7f)
#define WTERMSIG(s) ((s) & 0x7f)
#endif

#endif /* MCD_WIN_WAIT_COMPAT_H */

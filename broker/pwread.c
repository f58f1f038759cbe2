/*
 * pwread.c - a new password from a file or the terminal; see pwread.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "log.h"
#include "pwread.h"

/* One line from fd into buf, without its newline.  The length, or -1 when
 * it is too long or unreadable. */
static ssize_t
read_line(int fd, char *buf, size_t max)
{
	size_t n = 0;
	char c;

	for (;;) {
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n == max)
			return -1;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

static int
from_file(const char *file, char *buf, size_t *len, char *err, size_t errlen)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		seterr(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	n = read_line(fd, buf, PWREAD_MAX);
	close(fd);
	if (n <= 0) {
		seterr(err, errlen, "%s: %s", file, n < 0 ?
		       "password longer than 128 bytes" : "no password in it");
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

/* Prompt on the terminal with echo off. */
static ssize_t
ask(int tty, const char *prompt, char *buf)
{
	struct termios old, quiet;
	ssize_t n, w;

	if (tcgetattr(tty, &old) < 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	quiet.c_lflag |= ECHONL;
	w = write(tty, prompt, strlen(prompt));
	(void)w;
	if (tcsetattr(tty, TCSAFLUSH, &quiet) < 0)
		return -1;
	n = read_line(tty, buf, PWREAD_MAX);
	tcsetattr(tty, TCSAFLUSH, &old);
	return n;
}

static int
from_tty(char *buf, size_t *len, char *err, size_t errlen)
{
	char again[PWREAD_MAX + 2];
	int tty = open("/dev/tty", O_RDWR | O_CLOEXEC);
	ssize_t n, m;
	int rc = -1;

	if (tty < 0) {
		seterr(err, errlen, "no terminal to ask for the password on "
		       "(use --password-file)");
		return -1;
	}
	n = ask(tty, "New password: ", buf);
	m = n > 0 ? ask(tty, "Again: ", again) : -1;
	close(tty);
	if (n <= 0)
		seterr(err, errlen, "no password given (1 to 128 bytes)");
	else if (m != n || memcmp(buf, again, (size_t)n) != 0)
		seterr(err, errlen, "the two passwords differ");
	else {
		*len = (size_t)n;
		rc = 0;
	}
	OPENSSL_cleanse(again, sizeof(again));
	return rc;
}

int
pwread(const char *file, char *buf, size_t *len, char *err, size_t errlen)
{
	return file ? from_file(file, buf, len, err, errlen) :
		      from_tty(buf, len, err, errlen);
}

/*
 * pick.h - which pool runs the app: a pure choice over the pools' answers
 * to the load query, so it is tested without any network.
 */
#ifndef CLIENT_PICK_H
#define CLIENT_PICK_H

#include <stddef.h>
#include <stdint.h>

#define PICK_NAME_MAX 64     /* as MCD_SITE_POOL_MAX */
#define PICK_TEXT_MAX 256    /* as MCD_SITE_TEXT_MAX */

/* One pool's answer (or its absence). */
struct pick_load {
	char pool[PICK_NAME_MAX + 1];
	int answered;                 /* 0: skipped (silent, refused, error) */
	uint32_t load;                /* 0..1000 */
	int room;                     /* 1: room for one more domain */
	char limit[17];               /* "memory", "cpu", "domains", or "" */
	char text[PICK_TEXT_MAX + 1]; /* why no room, or why skipped */
};

enum pick_result {
	PICK_OK = 0,      /* *chosen is a pool with room */
	PICK_WAIT = 1,    /* none has room; *chosen has the lowest load (wait) */
	PICK_NO_ROOM = 2, /* none has room and the caller will not wait */
	PICK_NONE = 3,    /* no pool answered */
};

/*
 * The lowest load among answered pools with room; ties go to the first
 * listed.  When none has room: with wait, the lowest load of all answered
 * (PICK_WAIT), else PICK_NO_ROOM.  *chosen is an index into l.
 */
enum pick_result pick_pool(const struct pick_load *l, size_t n, int wait,
			   size_t *chosen);

/* "no room: pool a (full: memory), pool b (full: cpu)" for the answered
 * pools, into buf (truncated to fit). */
void pick_no_room_line(const struct pick_load *l, size_t n, char *buf,
		       size_t buflen);

#endif /* CLIENT_PICK_H */

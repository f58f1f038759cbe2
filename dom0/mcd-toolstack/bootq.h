/*
 * bootq.h - the line of launches waiting for a boot slot.
 *
 * Domains that boot at once share the host's CPUs: past a few, every one of
 * them boots so slowly that none reaches its agent in time.  So the service
 * builds and boots at most max_boots domains at once, and a launch that
 * needs a new domain while all slots are taken waits here.  Each launch
 * draws a ticket when its request arrives; the line is ordered by ticket,
 * so a launch that leaves it (to wait for room, say) and comes back keeps
 * its place.  Warm-pool refills never stand in line: they take a slot only
 * when one is free and no user's launch waits.
 *
 * Pure bookkeeping with no I/O, so the rules are unit-tested
 * (tests/unit/test_bootq.c); place.c counts the slots in use and decides.
 */
#ifndef MCD_BOOTQ_H
#define MCD_BOOTQ_H

/* One waiting launch; embedded in its session. */
struct bootq_ent {
	struct bootq_ent *next;
	unsigned long ticket;   /* arrival order: lower goes first */
	int queued;             /* in the line now */
};

struct bootq {
	struct bootq_ent *head; /* lowest ticket first */
	unsigned long next_ticket;
	unsigned len;
};

/* The default number of slots for a host with ncpus CPUs: one per CPU. */
unsigned bootq_default_max(unsigned ncpus);
/* Give e the next ticket (when its request arrives). */
void bootq_ticket(struct bootq *q, struct bootq_ent *e);
/* Put e in line at its ticket's place; nothing if it is in line. */
void bootq_add(struct bootq *q, struct bootq_ent *e);
/* Take e out of the line; nothing if it is not in it. */
void bootq_remove(struct bootq *q, struct bootq_ent *e);
/* How many launches in line are ahead of e (e need not be in line). */
unsigned bootq_ahead(const struct bootq *q, const struct bootq_ent *e);
/*
 * May e start a boot now, with busy of max slots in use?  Only with a slot
 * free and nobody in line ahead of it.  e NULL is a pool refill, which
 * also needs the line to be empty.
 */
int bootq_may_start(const struct bootq *q, const struct bootq_ent *e,
		    unsigned busy, unsigned max);

#endif /* MCD_BOOTQ_H */

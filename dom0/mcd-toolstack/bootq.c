/*
 * bootq.c - the line of launches waiting for a boot slot (see bootq.h).
 */
#include <stddef.h>

#include "bootq.h"

unsigned bootq_default_max(unsigned ncpus)
{
	return ncpus ? ncpus : 1;
}

void bootq_ticket(struct bootq *q, struct bootq_ent *e)
{
	e->ticket = ++q->next_ticket;
}

void bootq_add(struct bootq *q, struct bootq_ent *e)
{
	struct bootq_ent **pp;

	if (e->queued)
		return;
	for (pp = &q->head; *pp && (*pp)->ticket <= e->ticket; pp = &(*pp)->next)
		;
	e->next = *pp;
	*pp = e;
	e->queued = 1;
	q->len++;
}

void bootq_remove(struct bootq *q, struct bootq_ent *e)
{
	if (!e->queued)
		return;
	for (struct bootq_ent **pp = &q->head; *pp; pp = &(*pp)->next)
		if (*pp == e) {
			*pp = e->next;
			q->len--;
			break;
		}
	e->next = NULL;
	e->queued = 0;
}

unsigned bootq_ahead(const struct bootq *q, const struct bootq_ent *e)
{
	unsigned n = 0;

	for (const struct bootq_ent *i = q->head; i && i != e &&
	     i->ticket < e->ticket; i = i->next)
		n++;
	return n;
}

int bootq_may_start(const struct bootq *q, const struct bootq_ent *e,
		    unsigned busy, unsigned max)
{
	if (busy >= max)
		return 0;
	if (!e)
		return q->head == NULL;
	return bootq_ahead(q, e) == 0;
}

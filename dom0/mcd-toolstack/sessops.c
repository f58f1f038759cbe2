/*
 * sessops.c - the service's side of sessops.h: the real worker processes,
 * XenStore, libxl and the monotonic clock behind the session state machine.
 */
#include <stdlib.h>
#include <xenstore.h>

#include "daemon.h"
#include "domain.h"
#include "face.h"
#include "mcd_chan.h"
#include "sessops.h"
#include "store.h"
#include "worker.h"

static long real_now_ms(struct daemon *d)
{
	(void)d;
	return now_ms();
}

static struct mcd_chan *real_worker_start(struct daemon *d, const char *sid,
					  int domid, pid_t *pid, char *err,
					  size_t errlen)
{
	(void)d;
	return worker_start(sid, domid, pid, err, errlen);
}

static void real_worker_stop(struct daemon *d, pid_t pid, const char *sid)
{
	(void)d;
	worker_stop(pid, sid);
}

static int real_chan_send(struct daemon *d, struct mcd_chan *c,
			  const void *buf, size_t n)
{
	(void)d;
	return mcd_chan_send(c, buf, n);
}

static char *real_xs_read(struct daemon *d, const char *path, unsigned *len)
{
	return xs_read(d->xs, XBT_NULL, path, len);
}

static int real_domain_state(struct daemon *d, uint32_t domid)
{
	return domain_state(d->xen, domid);
}

static int real_store_create(struct daemon *d, const char *area,
			     const struct store_rec *r)
{
	return store_create(d->xs, area, r);
}

static int real_store_keep(struct daemon *d, const struct store_rec *r)
{
	return store_keep(d->xs, r);
}

static int real_store_set(struct daemon *d, const char *area, const char *sid,
			  const char *key, const char *value)
{
	return store_set(d->xs, area, sid, key, value);
}

static int real_store_set_int(struct daemon *d, const char *area,
			      const char *sid, const char *key,
			      long long value)
{
	return store_set_int(d->xs, area, sid, key, value);
}

static int real_store_remove(struct daemon *d, const char *area,
			     const char *sid)
{
	return store_remove(d->xs, area, sid);
}

const struct daemon_ops daemon_real_ops = {
	.now_ms = real_now_ms,
	.worker_start = real_worker_start,
	.worker_stop = real_worker_stop,
	.chan_send = real_chan_send,
	.xs_read = real_xs_read,
	.domain_state = real_domain_state,
	.store_create = real_store_create,
	.store_keep = real_store_keep,
	.store_set = real_store_set,
	.store_set_int = real_store_set_int,
	.store_remove = real_store_remove,
	.job_create = daemon_job_create,
	.job_destroy = daemon_job_destroy,
	.job_volume = daemon_job_volume,
	.session_gone = face_session_gone,
};

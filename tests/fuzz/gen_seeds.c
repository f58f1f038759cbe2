/*
 * gen_seeds.c - write the fuzzers' seed corpora at build time:
 *   DIR/proto/   a control byte and a stream of valid frames, per direction
 *   DIR/schema/  a control byte and a small valid xenstore-ls listing
 *   DIR/site/    one valid site protocol frame per file (mcd_site)
 * Frames come from mcd_encode(), so the seeds follow the format as built.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mcd_proto.h"
#include "mcd_site.h"

#define SID "0123456789abcdef"

static const char *dir;
static unsigned nseed;

static void mkdir_or_die(const char *p)
{
	if (mkdir(p, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "gen_seeds: %s: %s\n", p, strerror(errno));
		exit(1);
	}
}

static void write_seed(const char *sub, const void *p, size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s/seed-%02u", dir, sub, nseed++);
	f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		fprintf(stderr, "gen_seeds: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* A stream: control byte, then the frames of msgs[]. */
static void stream(unsigned char ctl, const struct mcd_msg *msgs, size_t n)
{
	static unsigned char buf[1 + 8 * MCD_MAX_FRAME];
	size_t len = 1;

	buf[0] = ctl;
	for (size_t i = 0; i < n; i++) {
		int k = mcd_encode(&msgs[i], buf + len, sizeof(buf) - len);

		if (k < 0) {
			fprintf(stderr, "gen_seeds: cannot encode %s\n",
				mcd_msg_name(msgs[i].type));
			exit(1);
		}
		len += (size_t)k;
	}
	write_seed("proto", buf, len);
}

/* Version 2: LAUNCH2 with every option, READY and the X relay. */
static void proto_v2_seeds(void)
{
	static const uint8_t xbytes[] = { 'l', 0, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct mcd_msg g[4], d[4];

	memset(g, 0, sizeof(g));
	g[0].type = MCD_MSG_HELLO;
	g[0].u.hello.version_min = MCD_PROTO_VERSION_MIN;
	g[0].u.hello.version_max = MCD_PROTO_VERSION_MAX;
	g[0].u.hello.role = MCD_ROLE_DOM0;
	g[1].type = MCD_MSG_LAUNCH2;
	g[1].u.launch.flags = MCD_LAUNCH_X_RELAY;
	g[1].u.launch.session_id = SID;
	g[1].u.launch.user = "alice";
	g[1].u.launch.display = "10.0.2.2:0";
	g[1].u.launch.xcookie = "00112233445566778899aabbccddeeff";
	g[1].u.launch.volume = "xvdc";
	g[1].u.launch.argc = 1;
	g[1].u.launch.argv[0] = "/usr/bin/xlogo";
	g[1].u.launch.sharec = 2;
	g[1].u.launch.share[0] = (struct mcd_share){ "nfs", "fs:/home/alice", "home", "", "" };
	g[1].u.launch.share[1] = (struct mcd_share){ "cifs", "//fs/alice", "docs", "alice", "secret" };
	g[2].type = MCD_MSG_X_DATA;
	g[2].u.x.conn = 1;
	g[2].u.x.data = xbytes;
	g[2].u.x.len = sizeof(xbytes);
	g[3].type = MCD_MSG_X_ACK;
	g[3].u.x.conn = 1;
	g[3].u.x.ack = 12;
	memset(d, 0, sizeof(d));
	d[0].type = MCD_MSG_X_OPEN;
	d[0].u.x.conn = 1;
	d[1].type = MCD_MSG_X_DATA;
	d[1].u.x.conn = 1;
	d[1].u.x.data = xbytes;
	d[1].u.x.len = sizeof(xbytes);
	d[2].type = MCD_MSG_X_CLOSE;
	d[2].u.x.conn = 1;
	d[2].u.x.reason = "";
	d[3].type = MCD_MSG_READY;
	d[3].u.ready.session_id = SID;
	stream(0x00, g, 4);
	stream(0x6e, g + 1, 3);
	stream(0x80, d, 4);
	stream(0x13, d + 1, 3);
}

static void proto_seeds(void)
{
	static const char *const env[] = { "LANG=C.UTF-8", "MCD_LEVEL=2" };
	struct mcd_msg to_guest[3], to_dom0[6];

	memset(to_guest, 0, sizeof(to_guest));
	to_guest[0].type = MCD_MSG_HELLO;
	to_guest[0].u.hello.version_min = MCD_PROTO_VERSION_MIN;
	to_guest[0].u.hello.version_max = MCD_PROTO_VERSION_MAX;
	to_guest[0].u.hello.role = MCD_ROLE_DOM0;
	to_guest[1].type = MCD_MSG_LAUNCH;
	to_guest[1].u.launch.session_id = SID;
	to_guest[1].u.launch.user = "alice";
	to_guest[1].u.launch.display = "10.0.2.2:0";
	to_guest[1].u.launch.argc = 3;
	to_guest[1].u.launch.argv[0] = "/usr/bin/xterm";
	to_guest[1].u.launch.argv[1] = "-e";
	to_guest[1].u.launch.argv[2] = "top";
	to_guest[1].u.launch.envc = 2;
	to_guest[1].u.launch.env[0] = env[0];
	to_guest[1].u.launch.env[1] = env[1];
	to_guest[2].type = MCD_MSG_STOP;
	to_guest[2].u.stop.grace_ms = 3000;
	to_guest[2].u.stop.session_id = SID;

	memset(to_dom0, 0, sizeof(to_dom0));
	to_dom0[0].type = MCD_MSG_HELLO;
	to_dom0[0].u.hello.version_min = 1;
	to_dom0[0].u.hello.version_max = 1;
	to_dom0[0].u.hello.role = MCD_ROLE_AGENT_LINUX;
	to_dom0[1].type = MCD_MSG_STATUS;
	to_dom0[1].u.status.state = MCD_AGENT_IDLE;
	to_dom0[2].type = MCD_MSG_STARTED;
	to_dom0[2].u.started.pid = 4242;
	to_dom0[2].u.started.session_id = SID;
	to_dom0[3].type = MCD_MSG_EXITED;
	to_dom0[3].u.exited.exit_code = -1;
	to_dom0[3].u.exited.exit_signal = 15;
	to_dom0[3].u.exited.session_id = SID;
	to_dom0[4].type = MCD_MSG_FAILED;
	to_dom0[4].u.failed.code = MCD_FAIL_NO_PROGRAM;
	to_dom0[4].u.failed.session_id = SID;
	to_dom0[4].u.failed.reason = "/usr/bin/xterm: No such file or directory";
	to_dom0[5].type = MCD_MSG_STATUS;
	to_dom0[5].u.status.state = MCD_AGENT_RUNNING;
	to_dom0[5].u.status.pid = 77;
	to_dom0[5].u.status.session_id = SID;

	stream(0x00, to_guest, 3);
	proto_v2_seeds();
	stream(0x81, to_guest, 2);
	stream(0x5a, to_guest + 1, 1);
	stream(0x00, to_dom0, 6);
	stream(0x9c, to_dom0, 2);
	stream(0x23, to_dom0 + 2, 3);
	stream(0x47, to_dom0 + 5, 1);
}

static const char listing_indented[] =
	"tool = \"\"  . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"local = \"\" . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	" domain = \"\" . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  0 = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   name = \"Domain-0\" . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  5 = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n5)\n"
	"   name = \"mcd-" SID "\" . . . . . . . . . . . . . .  (n0,r5)\n"
	"   data = \"\" . . . . . . . . . . . . . . . . . . . . . . . .  (n5)\n"
	"    mcd = \"\" . . . . . . . . . . . . . . . . . . . . . . . .  (n5)\n"
	"     agent = \"1 linux\" . . . . . . . . . . . . . . . . . . .  (n5)\n"
	"     vchan = \"\"  . . . . . . . . . . . . . . . . . . . . . .  (n5)\n"
	"      ring-ref = \"8\" . . . . . . . . . . . . . . . . . . . .  (n5,r0)\n"
	"      event-channel = \"31\" . . . . . . . . . . . . . . . . .  (n5,r0)\n"
	"mcd = \"\" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	" sessions = \"\" . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"  " SID " = \"\"  . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   domain-name = \"mcd-" SID "\"  . . . . . . . . . .  (n0)\n"
	"   template = \"debian-12\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   user = \"alice\"  . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   display = \"10.0.2.2:0\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   command = \"/usr/bin/xterm -e 'top' xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\\...\"  (n0)\n"
	"   state = \"running\" . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   created = \"1763770000\"  . . . . . . . . . . . . . . . . .  (n0)\n"
	"   domid = \"5\" . . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   pid = \"1234\"  . . . . . . . . . . . . . . . . . . . . . .  (n0)\n"
	"   exit-status = \"signal 9\"  . . . . . . . . . . . . . . . .  (n0)\n"
	"   error = \"agent said \\\"no\\\"\\t\\x1b\\001\"  . . . . . . . .  (n0)\n";

static const char listing_full[] =
	"/mcd = \"\"   (n0)\n"
	"/mcd/sessions = \"\"   (n0)\n"
	"/mcd/sessions/" SID " = \"\"   (n0)\n"
	"/mcd/sessions/" SID "/domain-name = \"mcd-" SID "\"   (n0)\n"
	"/mcd/sessions/" SID "/template = \"t\"   (n0)\n"
	"/mcd/sessions/" SID "/user = \"bob\"   (n0)\n"
	"/mcd/sessions/" SID "/display = \"[::1]:0\"   (n0)\n"
	"/mcd/sessions/" SID "/command = \"/bin/app 'a b'\"   (n0)\n"
	"/mcd/sessions/" SID "/state = \"creating\"   (n0)\n"
	"/mcd/sessions/" SID "/created = \"1\"   (n0)\n"
	"/local/domain/0 = \"\"   (n0)\n"
	"/local/domain/7/name = \"mcd-fedcba9876543210\"   (n0,r7)\n";

static void schema_seed(unsigned char ctl, const char *text)
{
	static char buf[8192];
	size_t n = strlen(text);

	buf[0] = (char)ctl;
	memcpy(buf + 1, text, n);
	write_seed("schema", buf, n + 1);
}

/* fuzz_xagent: a connection, its setup both ways, acks, closes, and the
 * watcher's lines (see the opcodes in fuzz_xagent.c). */
static void xagent_seeds(void)
{
	static const unsigned char relay[] = {
		0,                         /* connect: id 1 */
		4, 1, 0,                   /* client sends 1 byte ('l') */
		1, 1, 19, 0,               /* dom0: 20-byte setup reply */
		1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0xff, 0xff,
		0x1f, 0,
		2, 1, 1, 0, 0, 0,          /* dom0 acks the byte */
		5, 1,                      /* client reads */
		0, 3, 2, 3, 1, 1, 1, 0, 0, /* a second conn, closed, late data */
		6, 2, 'o', 'k',            /* watcher lines */
		6, 12, 'm', 'a', 'p', ' ', '0', 'x', '4', '0', '0', '0', '0', '1',
	};
	static const unsigned char lines[] = {
		6, 36, 'f', 'a', 'i', 'l', ' ', 'I', 'n', 'v', 'a', 'l', 'i', 'd',
		' ', 'M', 'I', 'T', '-', 'M', 'A', 'G', 'I', 'C', '-', 'C', 'O',
		'O', 'K', 'I', 'E', '-', '1', ' ', 'k', 'e', 'y', '.',
	};

	write_seed("xagent", relay, sizeof(relay));
	write_seed("xagent", lines, sizeof(lines));
}

/* ---- site protocol: one finished frame per seed ---- */

#define TOKEN64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HEX32 "00112233445566778899aabbccddeeff"

static struct mcd_site_out so;

static void site_seed(unsigned dir)
{
	char err[160];

	if (mcd_site_finish(&so, dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "gen_seeds: site: %s\n", err);
		exit(1);
	}
	write_seed("site", so.buf, so.len);
}

static void site_seeds_broker(void)
{
	mcd_site_begin(&so, MCD_SITE_HELLO);
	mcd_site_put_u32(&so, MCD_ST_VMIN, MCD_SITE_VERSION_MIN);
	mcd_site_put_u32(&so, MCD_ST_VMAX, MCD_SITE_VERSION_MAX);
	site_seed(MCD_SITE_C2B);
	mcd_site_begin(&so, MCD_SITE_HELLO);
	mcd_site_put_u32(&so, MCD_ST_VERSION, 1);
	site_seed(MCD_SITE_B2C);
	mcd_site_begin(&so, MCD_SITE_ERROR);
	mcd_site_put_u32(&so, MCD_ST_CODE, MCD_SITE_E_AUTH);
	mcd_site_put_str(&so, MCD_ST_TEXT, "wrong user or password");
	site_seed(MCD_SITE_B2C);
	mcd_site_begin(&so, MCD_SITE_LOGIN);
	mcd_site_put_str(&so, MCD_ST_USER, "alice");
	mcd_site_put_bytes(&so, MCD_ST_PASSWORD, "s3cret\0x", 8);
	site_seed(MCD_SITE_C2B);
	mcd_site_begin(&so, MCD_SITE_LOGIN_OK);
	mcd_site_put_str(&so, MCD_ST_TOKEN, TOKEN64);
	mcd_site_put_str(&so, MCD_ST_USER, "alice");
	mcd_site_put_u32(&so, MCD_ST_LEVEL, 2);
	mcd_site_put_u32(&so, MCD_ST_EXPIRES, 1800000000u);
	site_seed(MCD_SITE_B2C);
	mcd_site_begin(&so, MCD_SITE_APP);
	mcd_site_put_str(&so, MCD_ST_APP, "firefox");
	mcd_site_put_str(&so, MCD_ST_NAME, "Firefox — Web");
	mcd_site_put_str(&so, MCD_ST_OS, "linux");
	mcd_site_put_u32(&so, MCD_ST_LEVEL, 2);
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&so, MCD_ST_POOL, "pool1");
	site_seed(MCD_SITE_B2C);
	mcd_site_begin(&so, MCD_SITE_POOL);
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&so, MCD_ST_ADDRESS, "[::1]:7443");
	mcd_site_put_u32(&so, MCD_ST_LEVEL, 2);
	site_seed(MCD_SITE_B2C);
	mcd_site_begin(&so, MCD_SITE_TICKET_REQ);
	mcd_site_put_str(&so, MCD_ST_TOKEN, TOKEN64);
	mcd_site_put_str(&so, MCD_ST_APP, "firefox");
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&so, MCD_ST_DISPLAY, "10.0.2.2:0");
	site_seed(MCD_SITE_C2B);
	mcd_site_begin(&so, MCD_SITE_NOTE);
	mcd_site_put_str(&so, MCD_ST_TOKEN, TOKEN64);
	mcd_site_put_str(&so, MCD_ST_SESSION, SID);
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&so, MCD_ST_APP, "firefox");
	mcd_site_put_str(&so, MCD_ST_STATE, "ready");
	site_seed(MCD_SITE_C2B);
}

/* A ticket body; its bytes also go into a LAUNCH. */
static void site_seeds_pool(void)
{
	static uint8_t body[MCD_SITE_TICKET_MAX];
	static const uint8_t sig[MCD_SITE_SIG_LEN] = { 1, 2, 3 };
	size_t body_len;

	mcd_site_begin(&so, MCD_SITE_TICKET_BODY);
	mcd_site_put_str(&so, MCD_ST_NONCE, HEX32);
	mcd_site_put_str(&so, MCD_ST_USER, "alice");
	mcd_site_put_str(&so, MCD_ST_APP, "xterm");
	mcd_site_put_u32(&so, MCD_ST_LEVEL, 2);
	mcd_site_put_str(&so, MCD_ST_TEMPLATE, "linux-demo");
	mcd_site_put_str(&so, MCD_ST_PROGRAM, "/usr/bin/xterm");
	mcd_site_put_str(&so, MCD_ST_ARG, "-e");
	mcd_site_put_str(&so, MCD_ST_ARG, "top");
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&so, MCD_ST_DISPLAY, "10.0.2.2:0.0");
	mcd_site_put_u32(&so, MCD_ST_ISSUED, 1800000000u);
	mcd_site_put_u32(&so, MCD_ST_EXPIRES, 1800000060u);
	site_seed(MCD_SITE_TICKET);
	memcpy(body, so.buf, so.len);
	body_len = so.len;
	mcd_site_begin(&so, MCD_SITE_LAUNCH);
	mcd_site_put_bytes(&so, MCD_ST_TICKET, body, body_len);
	mcd_site_put_bytes(&so, MCD_ST_SIG, sig, sizeof(sig));
	mcd_site_put_str(&so, MCD_ST_COOKIE, HEX32);
	mcd_site_put_u32(&so, MCD_ST_WAIT, 120);
	site_seed(MCD_SITE_C2P);
	mcd_site_begin(&so, MCD_SITE_LOAD_OK);
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_u32(&so, MCD_ST_LEVEL, 2);
	mcd_site_put_u32(&so, MCD_ST_LOAD, 950);
	mcd_site_put_u32(&so, MCD_ST_ROOM, 0);
	mcd_site_put_str(&so, MCD_ST_LIMIT, "memory");
	mcd_site_put_str(&so, MCD_ST_TEXT, "no memory for another domain");
	site_seed(MCD_SITE_P2C);
	mcd_site_begin(&so, MCD_SITE_WAIT);
	mcd_site_put_str(&so, MCD_ST_STATE, "queued");
	mcd_site_put_str(&so, MCD_ST_TEXT, "2 launches ahead");
	site_seed(MCD_SITE_P2C);
	mcd_site_begin(&so, MCD_SITE_READY);
	mcd_site_put_str(&so, MCD_ST_SESSION, SID);
	mcd_site_put_str(&so, MCD_ST_END_KEY, HEX32);
	site_seed(MCD_SITE_P2C);
	mcd_site_begin(&so, MCD_SITE_END);
	mcd_site_put_str(&so, MCD_ST_SESSION, SID);
	mcd_site_put_str(&so, MCD_ST_END_KEY, HEX32);
	site_seed(MCD_SITE_C2P);
	mcd_site_begin(&so, MCD_SITE_SESSION_INFO);
	mcd_site_put_str(&so, MCD_ST_SESSION, SID);
	mcd_site_put_str(&so, MCD_ST_POOL, "pool0");
	mcd_site_put_str(&so, MCD_ST_USER, "alice");
	mcd_site_put_str(&so, MCD_ST_STATE, "running");
	mcd_site_put_u32(&so, MCD_ST_ISSUED, 1800000000u);
	site_seed(MCD_SITE_P2C);
	mcd_site_begin(&so, MCD_SITE_ENDED);
	mcd_site_put_str(&so, MCD_ST_SESSION, SID);
	mcd_site_put_str(&so, MCD_ST_TEXT, "exit 0");
	site_seed(MCD_SITE_P2C);
}

int main(int argc, char **argv)
{
	char sub[4096];

	if (argc != 2) {
		fprintf(stderr, "usage: gen_seeds DIR\n");
		return 2;
	}
	dir = argv[1];
	mkdir_or_die(dir);
	snprintf(sub, sizeof(sub), "%s/proto", dir);
	mkdir_or_die(sub);
	snprintf(sub, sizeof(sub), "%s/schema", dir);
	mkdir_or_die(sub);
	snprintf(sub, sizeof(sub), "%s/xagent", dir);
	mkdir_or_die(sub);
	snprintf(sub, sizeof(sub), "%s/site", dir);
	mkdir_or_die(sub);

	proto_seeds();
	schema_seed(0x00, listing_indented);
	schema_seed(0x08, listing_indented);
	schema_seed(0x00, listing_full);
	schema_seed(0x08, listing_full);
	schema_seed(0x01, listing_indented + 0); /* read as a listing of /mcd */
	xagent_seeds();
	site_seeds_broker();
	site_seeds_pool();
	return 0;
}

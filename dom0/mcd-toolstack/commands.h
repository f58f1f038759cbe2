/*
 * commands.h - mcd-toolstack commands that live outside main.c.
 *
 * Each handler is called like main.c's: argv[0] is the command's name and
 * the options follow.  Each one also answers --help itself (with the usage
 * and help below), prints data on stdout (JSON with --json), reports an
 * error as one line on stderr and returns 0 on success, 1 on failure (a
 * template with problems, a domain that does not fit, Xen unreachable) and
 * 2 on a usage error.  Templates are read from template_dir().
 *
 * The usage and help strings are for main.c's command table.
 */
#ifndef MCD_COMMANDS_H
#define MCD_COMMANDS_H

#include <stdio.h>

#define CMD_TEMPLATE_USAGE \
	"template list [--json] | template show NAME [--json] | " \
	"template check NAME [--json]"
#define CMD_TEMPLATE_HELP \
	"list the templates, show all settings of one, or check one and " \
	"print every problem (exit 1 if any)"

#define CMD_LOAD_USAGE "load [--json] [--template NAME]"
#define CMD_LOAD_HELP \
	"show this host's load coefficient and what it is made of; with " \
	"--template, whether one more domain of it fits (exit 1 if not)"

/* `mcd-toolstack template list|show|check ...` */
int cmd_template(int argc, char **argv);

/* `mcd-toolstack load [--json] [--template NAME]` */
int cmd_load(int argc, char **argv);

/* s as a JSON string, quotes included; bytes outside printable ASCII are
 * written as \u00XX escapes, so the output is always valid ASCII JSON. */
void cmd_json_str(FILE *f, const char *s);

#endif /* MCD_COMMANDS_H */

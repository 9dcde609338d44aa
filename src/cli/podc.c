/* SPDX-License-Identifier: MIT */
/* podc.c - podc's command line: options, the input files (pod.yaml, its .env), the front end
 * (spec_compile), diagnostics, and the output files (SPEC.md sections 2 and 6).
 *
 * Nothing goes to stdout except the answers to -h and -V (sns captures stdout).  Diagnostics
 * go to stderr: spec problems as `file:line:col: error: path: message`, everything else as
 * `[LEVEL] message` lines filtered by SPACE_LOG_LEVEL (errors are always shown).
 * Outputs are written only when the spec is accepted, each one atomically (tmp + rename).
 */
#include "cli.h"
#include "pod/emit.h"
#include "pod/spec.h"
#include "pod/util.h"
#include "pod/version.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A runtime: executable file is copied whole; this bounds what podc reads into memory. */
#define MAX_EXEC_BYTES (512u * 1024u * 1024u)

static const char usage_line[] =
    "Usage: podc [podname] [-f|--file=FILE] [-o|--outfile=FILE] [-d|--dir=DIR] "
    "[-p|--preprocess=true|false] [-e|--source-env] [--strict] [-h|--help] [-V|--version]";

static const char usage_text[] =
    "Usage: podc [podname] [options]\n"
    "\n"
    "Compile a pod.yaml into a pod executable (plus <out>.portmappings.conf and\n"
    "<out>.ingress.conf when the pod exposes cluster ports or ingress rules).\n"
    "\n"
    "    podname                 name of the pod; default: the name of the current directory.\n"
    "                            Lower case letters, digits and '_', starting with a letter.\n"
    "    -f, --file=FILE         the pod YAML file; default: pod.yaml\n"
    "    -o, --outfile=FILE      the pod executable to write; default: FILE without its\n"
    "                            .yaml suffix (`x` becomes `x.out`)\n"
    "    -d, --dir=DIR           base directory for relative host volume binds and\n"
    "                            executable.file; default: the directory of FILE\n"
    "    -p, --preprocess=true|false\n"
    "                            substitute ${VAR} from <FILE without .yaml>.env and apply\n"
    "                            #ifdef/#ifndef/#iftrue/#ifntrue blocks; default: true\n"
    "    -e, --source-env        take variables missing from the .env file from the\n"
    "                            environment\n"
    "    --strict                treat warnings as errors\n"
    "    -h, --help              show this help\n"
    "    -V, --version           show the podc and pod API versions\n"
    "\n"
    "Diagnostics go to stderr (verbosity: SPACE_LOG_LEVEL=1..5, default 4).\n"
    "Exit status: 0 outputs written, 1 spec rejected, 100 usage error, 111 system failure.\n";

/* ------------------------------------------------------------------ command line */

struct podc_args {
    const char *pod_name; /* NULL: basename of the cwd */
    const char *file, *out, *dir;
    bool preprocess;
    bool source_env;
    bool strict;
    bool help, version;
};

enum opt_id { OPT_FILE, OPT_OUT, OPT_DIR, OPT_PP, OPT_ENV, OPT_STRICT, OPT_HELP, OPT_VERSION };

struct opt {
    char short_name; /* 0: long only */
    const char *long_name;
    bool has_arg;
    enum opt_id id;
};

static const struct opt opts[] = {
    {'f', "file", true, OPT_FILE},       {'o', "outfile", true, OPT_OUT},
    {'d', "dir", true, OPT_DIR},         {'p', "preprocess", true, OPT_PP},
    {'e', "source-env", false, OPT_ENV}, {0, "strict", false, OPT_STRICT},
    {'h', "help", false, OPT_HELP},      {'V', "version", false, OPT_VERSION},
};

static int usage_error(const char *fmt, const char *a)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, a);
    pod_log(POD_LOG_ERROR, "%s", msg);
    fprintf(stderr, "%s\n", usage_line);
    return POD_EXIT_USAGE;
}

static int apply_opt(struct podc_args *a, const struct opt *o, const char *val)
{
    switch (o->id) {
    case OPT_FILE:
        a->file = val;
        break;
    case OPT_OUT:
        a->out = val;
        break;
    case OPT_DIR:
        a->dir = val;
        break;
    case OPT_PP:
        if (strcmp(val, "true") == 0)
            a->preprocess = true;
        else if (strcmp(val, "false") == 0)
            a->preprocess = false;
        else
            return usage_error("Invalid -p argument '%s'. Valid arguments are: true false", val);
        break;
    case OPT_ENV:
        a->source_env = true;
        break;
    case OPT_STRICT:
        a->strict = true;
        break;
    case OPT_HELP:
        a->help = true;
        break;
    case OPT_VERSION:
        a->version = true;
        break;
    }
    return 0;
}

/* Parses argv like the original's _GETOPTS: `--long=value`, `--long value`, `-s value`,
 * `--` ends the options, at most one positional.  Returns 0 or an exit code. */
static int parse_args(int argc, char **argv, struct podc_args *a)
{
    int npos = 0;
    bool opts_done = false;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!opts_done && strcmp(arg, "--") == 0) {
            opts_done = true;
            continue;
        }
        if (opts_done || arg[0] != '-' || arg[1] == '\0') {
            if (++npos > 1)
                return usage_error("Too many arguments. Max %s argument(s) allowed.", "1");
            a->pod_name = arg;
            continue;
        }
        const struct opt *o = NULL;
        const char *val = NULL;
        if (arg[1] == '-') {
            const char *eq = strchr(arg, '=');
            size_t nlen = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
            for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
                if (strlen(opts[k].long_name) == nlen &&
                    strncmp(opts[k].long_name, arg + 2, nlen) == 0)
                    o = &opts[k];
            if (!o)
                return usage_error("Unrecognized option: '%s'", arg);
            if (eq && !o->has_arg)
                return usage_error("Option '%s' does not take an argument", arg);
            val = eq ? eq + 1 : NULL;
        } else {
            if (arg[2] != '\0')
                return usage_error("Invalid option '%s'", arg);
            for (size_t k = 0; k < sizeof opts / sizeof opts[0]; k++)
                if (opts[k].short_name == arg[1])
                    o = &opts[k];
            if (!o)
                return usage_error("Unrecognized option: '%s'", arg);
        }
        if (o->has_arg && !val) {
            if (i + 1 >= argc)
                return usage_error("Option '%s' is expecting an argument", arg);
            val = argv[++i];
        }
        int rc = apply_opt(a, o, val);
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ helpers */

static char *strip_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    if (n >= k && strcmp(s + n - k, suffix) == 0)
        return xstrndup(s, n - k);
    return xstrdup(s);
}

static const char *env_lookup(void *self, const char *name)
{
    (void)self;
    return getenv(name);
}

/* Prints diagnostics (spec_compile sorted them); warnings only when SPACE_LOG_LEVEL shows
 * them. */
static void print_diags(const char *file, const struct spec_diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        if (d->v[i].sev == SPEC_SEV_WARNING && pod_log_level() < POD_LOG_WARN)
            continue;
        char *line = spec_diag_format(file, &d->v[i]);
        fprintf(stderr, "%s\n", line);
        free(line);
    }
}

/* ------------------------------------------------------------------ compile */

struct compile {
    struct podc_args a;
    const char *self_exe;
    char *pod_name, *in, *out, *srcdir, *builddir, *env_file;
    char *text, *env_text;
    size_t len, env_len;
    struct spec_diags diags;
    struct pod_spec *spec;
};

static void compile_free(struct compile *c)
{
    free(c->pod_name);
    free(c->in);
    free(c->out);
    free(c->srcdir);
    free(c->builddir);
    free(c->env_file);
    free(c->text);
    free(c->env_text);
    spec_diags_free(&c->diags);
    spec_free(c->spec);
}

/* Resolves names and paths from the command line.  Returns 0 or an exit code. */
static int resolve_paths(struct compile *c)
{
    struct podc_args *a = &c->a;
    bool name_from_cwd = !a->pod_name;
    if (a->pod_name) {
        c->pod_name = xstrdup(a->pod_name);
    } else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            pod_log(POD_LOG_ERROR,
                    "cannot determine the current directory for the default pod name: %s "
                    "(give the pod name as the first argument)",
                    strerror(errno));
            return POD_EXIT_SYSTEM;
        }
        c->pod_name = xstrdup(pod_basename(cwd));
        pod_log(POD_LOG_INFO, "No pod name given as first argument, assuming: %s", c->pod_name);
    }
    if (!spec_valid_name(c->pod_name)) {
        pod_log(POD_LOG_ERROR,
                "Invalid pod name '%s'%s: use lower case letters, digits and '_', starting with "
                "a letter and not ending with '_'",
                c->pod_name,
                name_from_cwd ? " (the current directory's name; give the pod name as the first "
                                "argument)"
                              : "");
        fprintf(stderr, "%s\n", usage_line);
        return POD_EXIT_USAGE;
    }

    if (a->file) {
        c->in = xstrdup(a->file);
    } else {
        c->in = xstrdup("pod.yaml");
        pod_log(POD_LOG_INFO, "No in file given, assuming: pod.yaml");
    }
    if (!*c->in)
        return usage_error("Option '%s' needs a non-empty file name", "--file");

    if (a->out) {
        c->out = xstrdup(a->out);
    } else {
        c->out = strip_suffix(c->in, ".yaml");
        if (strcmp(c->out, c->in) == 0) {
            char *o = xasprintf("%s.out", c->out);
            free(c->out);
            c->out = o;
        }
    }
    if (!*c->out)
        return usage_error("Option '%s' needs a non-empty file name", "--outfile");
    struct stat st, st_in;
    if (stat(c->out, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return usage_error("%s is a directory", c->out);
        if (stat(c->in, &st_in) == 0 && st.st_dev == st_in.st_dev && st.st_ino == st_in.st_ino)
            return usage_error("the output file %s is the input file", c->out);
    }

    c->srcdir = a->dir ? xstrdup(a->dir) : pod_dirname(c->in);
    if (a->dir && (stat(c->srcdir, &st) < 0 || !S_ISDIR(st.st_mode)))
        return usage_error("-d %s: not a directory", c->srcdir);
    c->builddir = pod_dirname(c->out);
    return 0;
}

/* Reads the input and, unless -p false, the .env file (when there is one).
 * Returns 0 to continue, or an exit code. */
static int read_inputs(struct compile *c)
{
    struct pod_err err = POD_ERR_ZERO;
    if (pod_read_file(c->in, SPEC_MAX_INPUT_BYTES, &c->text, &c->len, &err) < 0) {
        if (err.code == POD_E_NOTFOUND || err.sys_errno == EISDIR) {
            pod_log(POD_LOG_ERROR, "Yaml file %s: %s",
                    err.code == POD_E_NOTFOUND ? "does not exist" : "is a directory", c->in);
            return POD_EXIT_REJECTED;
        }
        pod_log(POD_LOG_ERROR, "%s", err.msg);
        return err.code == POD_E_INVALID ? POD_EXIT_REJECTED : POD_EXIT_SYSTEM;
    }
    if (!c->a.preprocess)
        return 0;

    char *base = strip_suffix(c->in, ".yaml");
    c->env_file = xasprintf("%s.env", base);
    free(base);
    if (pod_read_file(c->env_file, SPEC_MAX_INPUT_BYTES, &c->env_text, &c->env_len, &err) == 0) {
        pod_log(POD_LOG_INFO, "Loading variables from %s", c->env_file);
    } else if (err.code == POD_E_NOTFOUND) {
        pod_log(POD_LOG_INFO, "No .env file present (%s).", c->env_file);
    } else {
        pod_log(POD_LOG_ERROR, "%s", err.msg);
        return err.code == POD_E_INVALID ? POD_EXIT_REJECTED : POD_EXIT_SYSTEM;
    }
    return 0;
}

/* Stages a .conf file (compiler output: not fsync'ed, see emit_image_stage). */
static int stage_text(const char *path, const char *text, char **tmp_out, struct pod_err *err)
{
    struct pod_bytes bytes = {text, strlen(text)};
    return pod_stage_file(path, 0644, POD_SYNC_NONE, pod_fill_bytes, &bytes, tmp_out, err);
}

/* Stages the executable: a copy of executable.file (runtime: executable), else the pod image
 * (podc itself with the spec as payload). */
static int stage_executable(const struct compile *c, char **tmp_out, struct pod_err *err)
{
    const struct pod_spec *s = c->spec;
    if (s->runtime == SPEC_RUNTIME_EXECUTABLE) {
        struct pod_bytes bin = {0};
        char *data = NULL;
        if (pod_read_file(s->exec_file, MAX_EXEC_BYTES, &data, &bin.len, err) < 0)
            return -1;
        bin.data = data;
        int rc = pod_stage_file(c->out, 0755, POD_SYNC_NONE, pod_fill_bytes, &bin, tmp_out, err);
        free(data);
        return rc;
    }
    char *json = emit_spec_json(s);
    int rc = emit_image_stage(c->self_exe, json, strlen(json), c->out, tmp_out, err);
    free(json);
    return rc;
}

/* One output: its final path and, once staged, the temporary file holding its content
 * (NULL when the file must not exist). */
struct output {
    char *path;
    char *tmp;
};

/* Stages every output in a temporary file first and renames them into place only when all
 * of them were written, so a failure (disk full, no such directory) changes nothing.  The
 * .conf files are renamed before the executable: a fresh executable implies fresh .conf
 * files. */
static int write_outputs(struct compile *c)
{
    struct pod_err err = POD_ERR_ZERO;
    const struct pod_spec *s = c->spec;
    struct output outs[3] = {
        {xasprintf("%s.portmappings.conf", c->out), NULL},
        {xasprintf("%s.ingress.conf", c->out), NULL},
        {xstrdup(c->out), NULL},
    };
    char *texts[2] = {emit_portmappings(s), emit_ingress(s)};
    int rc = -1;

    for (int i = 0; i < 2; i++)
        if (*texts[i] && stage_text(outs[i].path, texts[i], &outs[i].tmp, &err) < 0)
            goto out;
    if (stage_executable(c, &outs[2].tmp, &err) < 0)
        goto out;

    for (int i = 0; i < 3; i++) {
        if (outs[i].tmp) {
            pod_log(i == 2 ? POD_LOG_OK : POD_LOG_INFO, "Writing %s%s",
                    i == 2 ? "pod executable to " : "", outs[i].path);
            if (rename(outs[i].tmp, outs[i].path) < 0) {
                pod_err_set(&err, POD_E_IO, errno, "rename `%s` to `%s`", outs[i].tmp,
                            outs[i].path);
                goto out;
            }
            free(pod_steal_ptr(&outs[i].tmp));
        } else {
            struct stat st;
            if (lstat(outs[i].path, &st) == 0)
                pod_log(POD_LOG_INFO, "Removing %s (nothing to write)", outs[i].path);
            if (pod_unlink_if_exists(outs[i].path, &err) < 0)
                goto out;
        }
    }
    rc = 0;
out:
    if (rc < 0)
        pod_log(POD_LOG_ERROR, "%s", err.msg);
    for (int i = 0; i < 3; i++) {
        if (outs[i].tmp)
            unlink(outs[i].tmp);
        free(outs[i].tmp);
        free(outs[i].path);
    }
    free(texts[0]);
    free(texts[1]);
    return rc < 0 ? POD_EXIT_SYSTEM : POD_EXIT_OK;
}

static int compile(struct compile *c)
{
    int rc = resolve_paths(c);
    if (rc)
        return rc;
    rc = read_inputs(c);
    if (rc)
        return rc;

    struct spec_source src = {
        .file = c->in,
        .text = c->text,
        .len = c->len,
        .env_file = c->env_file,
        .env_text = c->env_text,
        .env_len = c->env_len,
    };
    struct spec_compile_opts so = {
        .pod_name = c->pod_name,
        .srcdir = c->srcdir,
        .builddir = c->builddir,
        .preprocess = c->a.preprocess,
        .env_lookup = c->a.source_env ? env_lookup : NULL,
        .strict = c->a.strict,
        .check_files = true,
    };
    spec_compile(&src, &so, &c->diags, &c->spec);
    print_diags(c->in, &c->diags);
    size_t n_err = c->diags.n_errors, n_warn = c->diags.n_warnings;
    if (!c->spec) {
        if (n_err)
            pod_log(POD_LOG_ERROR, "%s: %zu error(s), %zu warning(s): no output written", c->in,
                    n_err, n_warn);
        else if (n_warn)
            pod_log(POD_LOG_ERROR,
                    "%s: %zu warning(s), which --strict treats as errors: no output written", c->in,
                    n_warn);
        else
            pod_log(POD_LOG_ERROR, "%s: rejected: no output written", c->in);
        return POD_EXIT_REJECTED;
    }
    pod_log(POD_LOG_INFO,
            "Compiling \"%s-%s\" for api version: \"%s\" and runtime \"%s\", YAML file: %s.",
            c->pod_name, c->spec->version ? c->spec->version : "", c->spec->api ? c->spec->api : "",
            c->spec->runtime == SPEC_RUNTIME_EXECUTABLE ? "executable" : "podman", c->in);
    return write_outputs(c);
}

int podc_main(int argc, char **argv, const char *self_exe)
{
    pod_log_init_from_env(POD_LOG_INFO);
    if (pod_log_level() < POD_LOG_ERROR)
        pod_log_set_level(POD_LOG_ERROR); /* errors are always shown */
    struct compile c = {.a = {.preprocess = true}, .self_exe = self_exe};
    int rc = parse_args(argc, argv, &c.a);
    if (rc)
        return rc;
    if (c.a.help) {
        fputs(usage_text, stdout);
        return fflush(stdout) == 0 ? POD_EXIT_OK : POD_EXIT_SYSTEM;
    }
    if (c.a.version) {
        printf("podc %s\napi %s\n", PODC_VERSION, PODC_API_VERSION);
        return fflush(stdout) == 0 ? POD_EXIT_OK : POD_EXIT_SYSTEM;
    }
    rc = compile(&c);
    compile_free(&c);
    return rc;
}

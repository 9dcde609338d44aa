/* SPDX-License-Identifier: MIT */
/* podir.c - the check of the (untrusted) pod directory before a supervisor starts or podman
 * is asked to create anything (SPEC.md 7.5.1).  The directory arrives by a sync from a git
 * repository, so every name the pod uses in it may be a symbolic link, a FIFO or another kind
 * of file than expected: this refuses those, never follows a link, reads nothing.  The same
 * check runs in the command line (life, before create/run/start) and in every daemon at its
 * start; what a name turns into while the pod runs is caught where it is opened (fs_real
 * beneath the directory, pod_read_file_at). */
#include "pod/daemon.h"
#include "pod/ident.h"
#include "pod/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int check(int dirfd, const char *rel, unsigned kind, struct pod_err *err)
{
    bool exists;
    return pod_check_beneath(dirfd, rel, kind, &exists, err);
}

/* Every file of log/ is a regular file (the log writers' files): no link, no FIFO. */
static int check_log_entries(int dirfd, struct pod_err *err)
{
    int fd = pod_open_beneath(dirfd, "log", O_RDONLY | O_DIRECTORY, 0, err);
    if (fd < 0)
        return err->code == POD_E_NOTFOUND ? 0 : -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return pod_err_set(err, POD_E_IO, errno, "open `log`");
    }
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        struct stat st;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || S_ISDIR(st.st_mode))
            continue; /* gone meanwhile; a directory of someone else's is not written to */
        char *rel = xasprintf("log/%s", de->d_name);
        rc = check(dirfd, rel, S_IFREG, err);
        free(rel);
    }
    closedir(d);
    return rc;
}

int daemon_podir_check(int dirfd, const struct pod_spec *spec, const char *name,
                       struct pod_err *err)
{
    static const struct {
        const char *suffix;
        unsigned kind;
    } dot[] = {{"status", S_IFREG}, {"state", S_IFREG}, {"pid", S_IFREG}, {"lock", S_IFREG},
               {"hostif", S_IFREG}, {"sock", S_IFSOCK}, {"run", S_IFDIR}};
    char f[IDENT_FILE_MAX];
    for (size_t i = 0; i < sizeof dot / sizeof dot[0]; i++) {
        if (ident_file(f, name, dot[i].suffix) < 0)
            return pod_err_set(err, POD_E_INVALID, 0, "bad executable name `%s`", name);
        if (check(dirfd, f, dot[i].kind, err) < 0)
            return -1;
    }
    if (check(dirfd, "log", S_IFDIR, err) < 0 || check_log_entries(dirfd, err) < 0)
        return -1;
    for (size_t i = 0; spec && i < spec->n_volumes; i++) {
        const struct spec_volume *v = &spec->volumes[i];
        const char *top = v->type == SPEC_VOL_CONFIG    ? "config"
                          : v->type == SPEC_VOL_RAMDISK ? "ramdisk"
                                                        : NULL;
        if (!top)
            continue;
        char *rel = xasprintf("%s/%s", top, v->name);
        int rc = check(dirfd, top, S_IFDIR, err);
        if (rc == 0)
            rc = check(dirfd, rel, S_IFDIR, err);
        free(rel);
        if (rc < 0)
            return -1;
    }
    return 0;
}

#include "util/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Who may have put a key there: the owner must be this user or root, and
 * no one else may write it. what is "file" or "directory". */
static int check_owner_and_writers(const char *path, const struct stat *st, const char *what,
                                   char *err, size_t errlen)
{
    if (st->st_uid != geteuid() && st->st_uid != 0) {
        snprintf(err, errlen,
                 "%.300s is owned by another user (uid %u); a key %s must belong to this user "
                 "(uid %u) or root",
                 path, (unsigned)st->st_uid, what, (unsigned)geteuid());
        return -1;
    }
    if ((st->st_mode & 022) != 0) {
        snprintf(err, errlen,
                 "%.300s can be written by other users (mode %04o), who could plant a key; "
                 "chmod go-w it",
                 path, (unsigned)(st->st_mode & 07777));
        return -1;
    }
    return 0;
}

int keyfile_check_dir(const char *dir, bool sticky_ok, char *err, size_t errlen)
{
    struct stat st;

    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "cannot read %.300s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%.300s is not a directory", dir);
        return -1;
    }
    /* In a sticky directory (/tmp, a Kubernetes secret volume) others may
     * add files but not replace one they do not own: safe for a single
     * key file, which is checked itself, but not for a directory whose
     * every *.pem is trusted. */
    if (sticky_ok && (st.st_mode & S_ISVTX) != 0 && (st.st_uid == geteuid() || st.st_uid == 0))
        return 0;
    return check_owner_and_writers(dir, &st, "directory", err, errlen);
}

int keyfile_check_parent(const char *path, char *err, size_t errlen)
{
    char copy[4096];

    if ((size_t)snprintf(copy, sizeof copy, "%s", path) >= sizeof copy) {
        snprintf(err, errlen, "%.300s: path too long", path);
        return -1;
    }
    return keyfile_check_dir(dirname(copy), true, err, errlen);
}

int keyfile_read(const char *path, size_t max, enum keyfile_access access, char **out, size_t *len,
                 unsigned *mode, char *err, size_t errlen)
{
    struct stat st;
    /* O_NONBLOCK: a FIFO put in the key's place must not hang the start
     * (it is refused below, as anything but a regular file is). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);

    *out = NULL;
    *len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read %.300s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        snprintf(err, errlen, "%.300s is not a regular file", path);
        return -1;
    }
    if (access == KEYFILE_PRIVATE && (st.st_mode & 077) != 0) {
        close(fd);
        snprintf(err, errlen, "%.300s is open to other users (mode %04o); chmod 600 it", path,
                 (unsigned)(st.st_mode & 07777));
        return -1;
    }
    if (check_owner_and_writers(path, &st, "file", err, errlen) != 0) {
        close(fd);
        return -1;
    }
    if (mode != NULL)
        *mode = (unsigned)(st.st_mode & 07777);
    if (st.st_size < 0 || (size_t)st.st_size > max) {
        close(fd);
        snprintf(err, errlen, "%.300s is larger than %zu bytes", path, max);
        return -1;
    }
    /* One byte more than the limit tells a file that grew since fstat. */
    char *buf = sodium_malloc(max + 2);
    size_t n = 0;
    if (buf == NULL) {
        close(fd);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (;;) {
        ssize_t r = read(fd, buf + n, max + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            snprintf(err, errlen, "cannot read %.300s: %s", path, strerror(errno));
            close(fd);
            keyfile_free(buf);
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > max) {
            snprintf(err, errlen, "%.300s is larger than %zu bytes", path, max);
            close(fd);
            keyfile_free(buf);
            return -1;
        }
    }
    close(fd);
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return 0;
}

void keyfile_free(char *buf)
{
    sodium_free(buf); /* wipes; NULL is ignored */
}

static int write_all(int fd, const unsigned char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* fsyncs the directory holding path, so that a new link survives a crash. */
static int sync_dir(const char *path)
{
    char copy[4096];

    if ((size_t)snprintf(copy, sizeof copy, "%s", path) >= sizeof copy)
        return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int keyfile_create(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    char tmp[4096];
    unsigned char rnd[8];
    char hex[17];

    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(hex, sizeof hex, rnd, sizeof rnd);
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.%s.tmp", path, hex) >= sizeof tmp) {
        snprintf(err, errlen, "%.300s: path too long", path);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %.300s: %s", tmp, strerror(errno));
        return -1;
    }
    /* The umask may only narrow 0600; fchmod makes it exact. */
    if (fchmod(fd, 0600) != 0 || write_all(fd, data, len) != 0 || fsync(fd) != 0) {
        snprintf(err, errlen, "cannot write %.300s: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        return -1;
    }
    close(fd);
    /* link, unlike rename, fails when path exists: of two processes creating
     * the same key at once, exactly one wins and the other reads its key. */
    int rc = link(tmp, path);
    int e = errno;
    unlink(tmp);
    if (rc != 0 && e == EEXIST)
        return 1;
    if (rc != 0) {
        snprintf(err, errlen, "cannot create %.300s: %s", path, strerror(e));
        return -1;
    }
    if (sync_dir(path) != 0) {
        snprintf(err, errlen, "cannot sync the directory of %.300s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

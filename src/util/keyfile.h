#ifndef GH_UTIL_KEYFILE_H
#define GH_UTIL_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Files that hold keys: read with limits and a permission check, and
 * created atomically, so that a crash or a second process never sees a
 * half-written key. */

/* Who may have access to a key file. Anyone who can write a key file, or
 * the directory that holds it, can make the server trust a key of theirs;
 * anyone who can read a private key can sign as the server. */
enum keyfile_access {
    KEYFILE_PRIVATE,  /* a private key or secret: no permission for group or others */
    KEYFILE_READABLE, /* a public key: others may read it, not write it */
};

/* Reads the regular file at path (symbolic links followed, as container
 * secret mounts use them) into a new NUL-terminated buffer *out of *len bytes
 * (sodium_malloc'd: free it with keyfile_free, which wipes it). Refuses a
 * file larger than max bytes, one that group or others can write (mode &
 * 022) or that belongs to a user other than this one and root, and with
 * KEYFILE_PRIVATE one that grants group or others any permission (& 077). *mode (unless NULL)
 * receives the file's permission bits. Returns 0, or -1 with a one-line
 * reason naming the path (never the content) in err. */
int keyfile_read(const char *path, size_t max, enum keyfile_access access, char **out, size_t *len,
                 unsigned *mode, char *err, size_t errlen);

/* Refuses (-1, reason in err) a directory of keys that group or others can
 * write, or that belongs to a user other than this one and root. With
 * sticky_ok, a sticky directory of this user or root passes (others cannot
 * replace a file there that is not theirs): right for the directory of a
 * single key file, wrong for a directory whose every file is trusted. */
int keyfile_check_dir(const char *dir, bool sticky_ok, char *err, size_t errlen);

/* keyfile_check_dir, sticky_ok, of the directory that holds path. */
int keyfile_check_parent(const char *path, char *err, size_t errlen);

/* Wipes and frees a buffer of keyfile_read; NULL is ignored. */
void keyfile_free(char *buf);

/* Creates path holding data[0..len), mode 0600, atomically: the bytes go to
 * a temporary file in the same directory, which is fsync'd and then linked
 * into place (link never replaces a file), and the directory is fsync'd.
 * Returns 0; 1 when path exists already (nothing written: another process
 * may have won the race); -1 with a reason in err on any other failure. */
int keyfile_create(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif

#ifndef GH_UTIL_KEYFILE_H
#define GH_UTIL_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>

/* Files that hold keys: read with limits and a permission check, and
 * created atomically, so that a crash or a second process never sees a
 * half-written key. */

/* Reads the regular file at path (symbolic links followed, as container
 * secret mounts use them) into a new NUL-terminated buffer *out of *len bytes
 * (sodium_malloc'd: free it with keyfile_free, which wipes it). Refuses a
 * file larger than max bytes, and with private_only one that grants its group
 * or others any permission (mode & 077). Returns 0, or -1 with a one-line
 * reason naming the path (never the content) in err. */
int keyfile_read(const char *path, size_t max, bool private_only, char **out, size_t *len,
                 char *err, size_t errlen);

/* Wipes and frees a buffer of keyfile_read; NULL is ignored. */
void keyfile_free(char *buf);

/* Creates path holding data[0..len), mode 0600, atomically: the bytes go to
 * a temporary file in the same directory, which is fsync'd and then linked
 * into place (link never replaces a file), and the directory is fsync'd.
 * Returns 0; 1 when path exists already (nothing written: another process
 * may have won the race); -1 with a reason in err on any other failure. */
int keyfile_create(const char *path, const void *data, size_t len, char *err, size_t errlen);

#endif

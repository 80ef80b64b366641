#ifndef GH_UTIL_STOPPER_H
#define GH_UTIL_STOPPER_H

#include <pthread.h>
#include <stdbool.h>

/* A background thread that can be told to stop while it waits: it waits on
 * stopper_wait (or polls stopper_fd beside its own descriptors), and
 * stopper_stop wakes it at once and joins it. */

struct stopper {
    pthread_t thread;
    int fd[2]; /* a pipe: one byte written to fd[1] means stop */
    bool running;
};

/* Readies s; call before anything else, so that stopper_stop is safe on a
 * stopper that never started. */
void stopper_init(struct stopper *s);

/* Starts fn(arg) on a thread. Returns 0, or -1 when no pipe or thread can
 * be had (s is then as stopper_init left it). */
int stopper_start(struct stopper *s, void *(*fn)(void *), void *arg);

/* Waits up to ms milliseconds (0: just looks); true once told to stop. */
bool stopper_wait(const struct stopper *s, int ms);

/* The descriptor that becomes readable when the thread is told to stop. */
int stopper_fd(const struct stopper *s);

/* Tells the thread to stop, joins it and frees the pipe. Safe to call on a
 * stopper that never started, and more than once. */
void stopper_stop(struct stopper *s);

#endif

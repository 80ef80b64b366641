#include "util/stopper.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

void stopper_init(struct stopper *s)
{
    s->fd[0] = s->fd[1] = -1;
    s->running = false;
}

int stopper_start(struct stopper *s, void *(*fn)(void *), void *arg)
{
    if (pipe2(s->fd, O_CLOEXEC) != 0) {
        stopper_init(s);
        return -1;
    }
    if (pthread_create(&s->thread, NULL, fn, arg) != 0) {
        close(s->fd[0]);
        close(s->fd[1]);
        stopper_init(s);
        return -1;
    }
    s->running = true;
    return 0;
}

bool stopper_wait(const struct stopper *s, int ms)
{
    struct pollfd p = {.fd = s->fd[0], .events = POLLIN};

    return poll(&p, 1, ms) > 0;
}

int stopper_fd(const struct stopper *s)
{
    return s->fd[0];
}

void stopper_stop(struct stopper *s)
{
    if (!s->running)
        return;
    /* The byte stays unread: every later stopper_wait sees it too. */
    ssize_t n = write(s->fd[1], "x", 1);
    (void)n; /* a pipe with a byte in it has said stop already */
    pthread_join(s->thread, NULL);
    close(s->fd[0]);
    close(s->fd[1]);
    stopper_init(s);
}

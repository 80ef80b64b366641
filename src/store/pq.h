#ifndef GH_STORE_PQ_H
#define GH_STORE_PQ_H

/* libpq, loaded at run time with dlopen the first time a PostgreSQL URL is
 * used. Linking it would load libpq and its dependencies (OpenSSL, Kerberos,
 * LDAP) into every process, SQLite-only ones included: 3 MiB of idle RSS,
 * measured. Include this header instead of <libpq-fe.h>; the PQ* names
 * below then call through the loaded table (PQconnectdb and PQexec serve
 * the unit tests, which check the database behind the store's back). */

#include <libpq-fe.h>
#include <stddef.h>

#define PQ_FUNCTIONS(X)                                                                            \
    X(PQclear)                                                                                     \
    X(PQcmdStatus)                                                                                 \
    X(PQcmdTuples)                                                                                 \
    X(PQconndefaults)                                                                              \
    X(PQconninfoFree)                                                                              \
    X(PQconnectStartParams)                                                                        \
    X(PQconnectdb)                                                                                 \
    X(PQconnectdbParams)                                                                           \
    X(PQconnectPoll)                                                                               \
    X(PQconnectionNeedsPassword)                                                                   \
    X(PQconsumeInput)                                                                              \
    X(PQerrorMessage)                                                                              \
    X(PQexec)                                                                                      \
    X(PQfinish)                                                                                    \
    X(PQfreemem)                                                                                   \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQisBusy)                                                                                    \
    X(PQlibVersion)                                                                                \
    X(PQnotifies)                                                                                  \
    X(PQntuples)                                                                                   \
    X(PQresultErrorField)                                                                          \
    X(PQresultStatus)                                                                              \
    X(PQsendPrepare)                                                                               \
    X(PQsendQuery)                                                                                 \
    X(PQsendQueryParams)                                                                           \
    X(PQsendQueryPrepared)                                                                         \
    X(PQsetNoticeReceiver)                                                                         \
    X(PQsocket)                                                                                    \
    X(PQstatus)

struct pq_functions {
#define PQ_MEMBER(f) __typeof__(f) *f;
    PQ_FUNCTIONS(PQ_MEMBER)
#undef PQ_MEMBER
};

extern struct pq_functions pq_fn;

/* Loads libpq.so.5 and every function above, once (util/dlib.h);
 * thread-safe. Returns 0, or -1 with a one-line reason (install libpq5) in
 * err. */
int pq_load(char *err, size_t errlen);

#ifndef PQ_LOADER
#define PQclear                   pq_fn.PQclear
#define PQcmdStatus               pq_fn.PQcmdStatus
#define PQcmdTuples               pq_fn.PQcmdTuples
#define PQconndefaults            pq_fn.PQconndefaults
#define PQconninfoFree            pq_fn.PQconninfoFree
#define PQconnectStartParams      pq_fn.PQconnectStartParams
#define PQconnectdb               pq_fn.PQconnectdb
#define PQconnectdbParams         pq_fn.PQconnectdbParams
#define PQconnectPoll             pq_fn.PQconnectPoll
#define PQconnectionNeedsPassword pq_fn.PQconnectionNeedsPassword
#define PQconsumeInput            pq_fn.PQconsumeInput
#define PQerrorMessage            pq_fn.PQerrorMessage
#define PQexec                    pq_fn.PQexec
#define PQfinish                  pq_fn.PQfinish
#define PQfreemem                 pq_fn.PQfreemem
#define PQgetResult               pq_fn.PQgetResult
#define PQgetisnull               pq_fn.PQgetisnull
#define PQgetvalue                pq_fn.PQgetvalue
#define PQisBusy                  pq_fn.PQisBusy
#define PQlibVersion              pq_fn.PQlibVersion
#define PQnotifies                pq_fn.PQnotifies
#define PQntuples                 pq_fn.PQntuples
#define PQresultErrorField        pq_fn.PQresultErrorField
#define PQresultStatus            pq_fn.PQresultStatus
#define PQsendPrepare             pq_fn.PQsendPrepare
#define PQsendQuery               pq_fn.PQsendQuery
#define PQsendQueryParams         pq_fn.PQsendQueryParams
#define PQsendQueryPrepared       pq_fn.PQsendQueryPrepared
#define PQsetNoticeReceiver       pq_fn.PQsetNoticeReceiver
#define PQsocket                  pq_fn.PQsocket
#define PQstatus                  pq_fn.PQstatus
#endif

#endif

/* util/metrics: the Prometheus text format writer and the histogram. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "util/metrics.h"

TEST(metrics_label_escaping)
{
    struct metrics_buf b = {0};
    /* The three characters the text format escapes in a label value
     * (backslash, double quote, line feed); others pass as they are. */
    const char *labels[] = {"route", "a\\b\"c\nd\te", "k", "", NULL};

    metrics_sample(&b, "x_total", labels, 3);
    REQUIRE(b.data != NULL);
    CHECK_EQ_STR(b.data, "x_total{route=\"a\\\\b\\\"c\\nd\te\",k=\"\"} 3\n");
    free(b.data);
}

TEST(metrics_family_and_values)
{
    struct metrics_buf b = {0};

    metrics_family(&b, "g", "gauge", "A gauge.");
    metrics_sample(&b, "g", NULL, 0.25);
    metrics_sample(&b, "g", NULL, 1795908727.989);
    metrics_sample(&b, "g", NULL, 12345678901.0);
    REQUIRE(b.data != NULL);
    CHECK_EQ_STR(b.data, "# HELP g A gauge.\n# TYPE g gauge\ng 0.25\ng 1795908727.989\n"
                         "g 12345678901\n");
    CHECK_EQ_INT(b.len, strlen(b.data));
    free(b.data);
}

TEST(metrics_histogram_cumulative)
{
    static struct metrics_histogram h; /* zeroed */
    struct metrics_buf b = {0};
    const char *labels[] = {"route", "/x", NULL};

    metrics_observe(&h, 100);      /* 0.1 ms: the first bucket */
    metrics_observe(&h, 500);      /* exactly on the first bound: le is inclusive */
    metrics_observe(&h, 3000);     /* 3 ms */
    metrics_observe(&h, 20000000); /* 20 s: past every bound */
    metrics_histogram_write(&b, "d", labels, &h);
    REQUIRE(b.data != NULL);
    CHECK(strstr(b.data, "d_bucket{route=\"/x\",le=\"0.0005\"} 2\n") != NULL);
    CHECK(strstr(b.data, "d_bucket{route=\"/x\",le=\"0.0025\"} 2\n") != NULL);
    CHECK(strstr(b.data, "d_bucket{route=\"/x\",le=\"0.005\"} 3\n") != NULL);
    CHECK(strstr(b.data, "d_bucket{route=\"/x\",le=\"10\"} 3\n") != NULL);
    CHECK(strstr(b.data, "d_bucket{route=\"/x\",le=\"+Inf\"} 4\n") != NULL);
    CHECK(strstr(b.data, "d_count{route=\"/x\"} 4\n") != NULL);
    CHECK(strstr(b.data, "d_sum{route=\"/x\"} 20.0036\n") != NULL);
    free(b.data);
}

TEST(metrics_http_routes_bounded)
{
    struct metrics_buf b = {0};

    metrics_http_route(0, "GET", "/a");
    metrics_http_observe(0, 200, 10);
    metrics_http_observe(0, 200, 10);
    /* No route, or one past the table: the single "unmatched" label. */
    metrics_http_observe(-1, 404, 10);
    metrics_http_observe(METRICS_MAX_ROUTES + 5, 404, 10);
    /* A status outside 100..599 is not counted by status (never a crash). */
    metrics_http_observe(0, 0, 10);
    metrics_http_observe(0, 600, 10);
    metrics_http_write(&b);
    REQUIRE(b.data != NULL);
    CHECK(strstr(b.data,
                 "gatehouse_http_requests_total{method=\"GET\",route=\"/a\",status=\"200\"} 2\n") !=
          NULL);
    CHECK(strstr(b.data, "gatehouse_http_requests_total{method=\"other\",route=\"unmatched\","
                         "status=\"404\"} 2\n") != NULL);
    CHECK(strstr(b.data, "status=\"0\"") == NULL && strstr(b.data, "status=\"600\"") == NULL);
    free(b.data);
}

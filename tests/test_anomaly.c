/* test_anomaly: the catalog of analyzer/anomaly.h — names and severities as the output interface
 * fixes them (the detail texts: test_anomaly_detail.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "anomaly.h"

Test(anomaly, names_and_severities) {
    cr_expect_str_eq(anomaly_name(ANOMALY_SYN_UNANSWERED), "syn_unanswered");
    cr_expect_str_eq(anomaly_name(ANOMALY_PORT_SCAN), "port_scan");
    cr_expect_str_eq(anomaly_name(ANOMALY_COUNT), "unknown");
    cr_expect_eq(anomaly_severity_of(ANOMALY_INVALID_FLAGS), SEVERITY_HIGH);
    cr_expect_eq(anomaly_severity_of(ANOMALY_RETRANSMISSION), SEVERITY_INFO);
    cr_expect_str_eq(anomaly_severity_name(SEVERITY_MEDIUM), "medium");
    for (unsigned a = 0; a < ANOMALY_COUNT; a++)
        cr_expect_str_neq(anomaly_name((enum anomaly)a), "unknown", "anomaly %u unnamed", a);
}

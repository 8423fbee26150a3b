/* test_checksum_policy: the --checksums verdicts of analyzer/checksum_policy.h — what each mode
 * does with a good, bad, offloaded or unverified packet, and auto's per-source rule: more than
 * 10 % bad among a source's first 1000 checksummed packets makes it an offloading source, exactly
 * at the packet that crosses the line, per source, in a table that stays bounded when full — and
 * for the run as a whole when several threads judge its packets (--workers). */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "checksum_policy.h"

static struct packet from(uint8_t ip_version, uint8_t last) {
    struct packet p;
    memset(&p, 0, sizeof p);
    p.ip_version = ip_version;
    p.src[0] = ip_version == 4 ? 10 : 0x20;
    p.src[ip_version == 4 ? 3 : 15] = last;
    return p;
}

/* Judges n packets of state cs from p's source; returns how many got verdict v. */
static unsigned judge_n(struct checksum_policy *cp, const struct packet *p, enum checksum_state cs,
                        unsigned n, enum checksum_verdict v) {
    unsigned got = 0;
    for (unsigned i = 0; i < n; i++)
        got += checksum_policy_judge(cp, p, cs, NULL) == v;
    return got;
}

Test(checksum_policy, modes) {
    /* drop leaves out everything not verified right, offloaded too; keep and off analyse all;
     * auto analyses offloaded and unverified packets and drops a lone bad one. */
    static const enum checksum_state states[] = {CHECKSUM_UNVERIFIED, CHECKSUM_GOOD, CHECKSUM_BAD,
                                                 CHECKSUM_OFFLOADED};
    static const enum checksum_verdict want[4][4] = {
        [CHECKSUM_MODE_AUTO] = {CHECKSUM_VERDICT_ANALYSE, CHECKSUM_VERDICT_ANALYSE,
                                CHECKSUM_VERDICT_DROP, CHECKSUM_VERDICT_ANALYSE},
        [CHECKSUM_MODE_DROP] = {CHECKSUM_VERDICT_ANALYSE, CHECKSUM_VERDICT_ANALYSE,
                                CHECKSUM_VERDICT_DROP, CHECKSUM_VERDICT_DROP},
        [CHECKSUM_MODE_KEEP] = {CHECKSUM_VERDICT_ANALYSE, CHECKSUM_VERDICT_ANALYSE,
                                CHECKSUM_VERDICT_ANALYSE, CHECKSUM_VERDICT_ANALYSE},
        [CHECKSUM_MODE_OFF] = {CHECKSUM_VERDICT_ANALYSE, CHECKSUM_VERDICT_ANALYSE,
                               CHECKSUM_VERDICT_ANALYSE, CHECKSUM_VERDICT_ANALYSE},
    };
    struct packet p = from(4, 1);
    for (int m = CHECKSUM_MODE_AUTO; m <= CHECKSUM_MODE_OFF; m++) {
        struct checksum_policy *cp = checksum_policy_new((enum checksum_mode)m, 8);
        cr_assert_not_null(cp);
        for (int s = 0; s < 4; s++)
            cr_expect_eq(checksum_policy_judge(cp, &p, states[s], NULL), want[m][s],
                         "mode %d state %d", m, (int)states[s]);
        checksum_policy_free(cp);
    }
    cr_expect_not(checksum_mode_verifies(CHECKSUM_MODE_OFF));
    cr_expect(checksum_mode_verifies(CHECKSUM_MODE_AUTO));
}

Test(checksum_policy, unverified_packets_take_no_entry) {
    /* Nothing was checked: no window to count in, no entry. */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 8);
    struct packet p = from(4, 1);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_UNVERIFIED, 5, CHECKSUM_VERDICT_ANALYSE), 5);
    cr_expect_eq(checksum_policy_sources(cp), 0);
    checksum_policy_free(cp);
}

Test(checksum_policy, exactly_ten_percent_is_not_offloading) {
    /* 900 good and 100 bad: 10 % of the first 1000, not more. Every bad one is dropped, and so
     * are 50 more bad ones after the window (they no longer count toward it). */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 8);
    struct packet p = from(4, 1);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_GOOD, 900, CHECKSUM_VERDICT_ANALYSE), 900);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_BAD, 100, CHECKSUM_VERDICT_DROP), 100);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_BAD, 50, CHECKSUM_VERDICT_DROP), 50);
    checksum_policy_free(cp);
}

Test(checksum_policy, just_over_ten_percent_switches) {
    /* 899 good, then bad ones: the 101st bad is the 1000th packet, 101 > 100 of the window; it
     * is the one that switches (and is analysed), the 100 before it stay dropped, and every
     * later bad one is analysed. */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 8);
    struct packet p = from(4, 1);
    judge_n(cp, &p, CHECKSUM_GOOD, 899, CHECKSUM_VERDICT_ANALYSE);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_BAD, 100, CHECKSUM_VERDICT_DROP), 100);
    struct checksum_source_counts n = {0};
    cr_expect_eq(checksum_policy_judge(cp, &p, CHECKSUM_BAD, &n), CHECKSUM_VERDICT_SWITCHED);
    cr_expect_eq(n.checked, 1000);
    cr_expect_eq(n.bad, 101);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_BAD, 20, CHECKSUM_VERDICT_ANALYSE), 20);
    checksum_policy_free(cp);
}

Test(checksum_policy, the_window_is_the_first_1000) {
    /* 900 good, 100 bad (the window is full at exactly 10 %), then 500 bad: the window is
     * closed, so they never switch the source; all 600 bad ones are dropped. */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 8);
    struct packet p = from(6, 1);
    judge_n(cp, &p, CHECKSUM_GOOD, 900, CHECKSUM_VERDICT_ANALYSE);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_BAD, 600, CHECKSUM_VERDICT_DROP), 600);
    checksum_policy_free(cp);
}

Test(checksum_policy, switch_as_soon_as_it_is_certain) {
    /* 101 bad in a row: more than 10 % of the first 1000 whatever comes next, so the source
     * switches at its 101st packet without waiting for the 1000th. */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 8);
    struct packet p = from(4, 9);
    cr_expect_eq(judge_n(cp, &p, CHECKSUM_BAD, 100, CHECKSUM_VERDICT_DROP), 100);
    struct checksum_source_counts n = {0};
    cr_expect_eq(checksum_policy_judge(cp, &p, CHECKSUM_BAD, &n), CHECKSUM_VERDICT_SWITCHED);
    cr_expect_eq(n.checked, 101);
    cr_expect_eq(n.bad, 101);
    checksum_policy_free(cp);
}

Test(checksum_policy, per_source_not_per_capture) {
    /* A (all bad: offloading in a way the dissector cannot see) and B (1 bad in 10: corrupt)
     * interleaved. A switches at its 101st bad; B's bad ones stay dropped before and after. An
     * IPv6 source whose first bytes match A's address is a source of its own. */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 64);
    struct packet a = from(4, 1), b = from(4, 2), a6 = from(6, 1);
    memcpy(a6.src, a.src, 4);
    unsigned b_dropped = 0, switched = 0;
    for (unsigned i = 0; i < 300; i++) {
        enum checksum_verdict va = checksum_policy_judge(cp, &a, CHECKSUM_BAD, NULL);
        switched += va == CHECKSUM_VERDICT_SWITCHED;
        cr_expect_eq(va,
                     i < 100    ? CHECKSUM_VERDICT_DROP
                     : i == 100 ? CHECKSUM_VERDICT_SWITCHED
                                : CHECKSUM_VERDICT_ANALYSE,
                     "A's packet %u", i);
        enum checksum_state sb = i % 10 == 0 ? CHECKSUM_BAD : CHECKSUM_GOOD;
        b_dropped += checksum_policy_judge(cp, &b, sb, NULL) == CHECKSUM_VERDICT_DROP;
    }
    cr_expect_eq(switched, 1, "said once");
    cr_expect_eq(b_dropped, 30, "B's 30 bad ones");
    cr_expect_eq(checksum_policy_judge(cp, &a6, CHECKSUM_BAD, NULL), CHECKSUM_VERDICT_DROP);
    cr_expect_eq(checksum_policy_sources(cp), 3);
    checksum_policy_free(cp);
}

Test(checksum_policy, a_full_table) {
    /* Two entries: A and B take them. C finds no room: untracked, its bad packets dropped (as
     * drop would) however many, its good ones analysed, and nothing allocated. Once A's window
     * has ended without offloading (1000 good), C takes A's entry and can switch like anyone. */
    struct checksum_policy *cp = checksum_policy_new(CHECKSUM_MODE_AUTO, 2);
    size_t mem = checksum_policy_memory(cp);
    struct packet a = from(4, 1), b = from(4, 2), c = from(4, 3);
    judge_n(cp, &a, CHECKSUM_GOOD, 999, CHECKSUM_VERDICT_ANALYSE);
    judge_n(cp, &b, CHECKSUM_GOOD, 1, CHECKSUM_VERDICT_ANALYSE);
    cr_expect_eq(checksum_policy_sources(cp), 2);
    cr_expect_eq(judge_n(cp, &c, CHECKSUM_BAD, 150, CHECKSUM_VERDICT_DROP), 150);
    cr_expect_eq(judge_n(cp, &c, CHECKSUM_GOOD, 5, CHECKSUM_VERDICT_ANALYSE), 5);
    cr_expect_eq(checksum_policy_untracked(cp), 155);
    cr_expect_eq(checksum_policy_memory(cp), mem);
    judge_n(cp, &a, CHECKSUM_GOOD, 1, CHECKSUM_VERDICT_ANALYSE); /* A's 1000th: settled */
    cr_expect_eq(judge_n(cp, &c, CHECKSUM_BAD, 100, CHECKSUM_VERDICT_DROP), 100);
    cr_expect_eq(checksum_policy_judge(cp, &c, CHECKSUM_BAD, NULL), CHECKSUM_VERDICT_SWITCHED);
    cr_expect_eq(checksum_policy_untracked(cp), 155);
    /* B, still in its window, kept its entry; a fourth source finds none. */
    cr_expect_eq(judge_n(cp, &b, CHECKSUM_BAD, 1, CHECKSUM_VERDICT_DROP), 1);
    struct packet d = from(4, 4);
    judge_n(cp, &d, CHECKSUM_GOOD, 1, CHECKSUM_VERDICT_ANALYSE);
    cr_expect_eq(checksum_policy_untracked(cp), 156);
    checksum_policy_free(cp);
}

/* A run's policy of `sources` entries and two threads' policies judging through it. */
struct two_threads {
    struct checksum_policy *run, *t1, *t2;
};

static struct two_threads two_threads_new(uint32_t sources) {
    struct two_threads tt;
    tt.run = checksum_policy_new(CHECKSUM_MODE_AUTO, sources);
    cr_assert_not_null(tt.run);
    tt.t1 = checksum_policy_new_thread(tt.run, 8);
    tt.t2 = checksum_policy_new_thread(tt.run, 8);
    cr_assert(tt.t1 && tt.t2);
    return tt;
}

static void two_threads_free(struct two_threads *tt) {
    checksum_policy_free(tt->t1);
    checksum_policy_free(tt->t2);
    checksum_policy_free(tt->run);
}

Test(checksum_policy, threads_judge_a_source_once_for_the_run) {
    /* Two threads' policies of one run, taking turns on one source's bad packets: the rule counts
     * them together, as one thread would. 50 bad from T1 and 50 from T2 (all dropped), then T1's
     * next bad is the run's 101st: the switch, once, with the run's counts. T2 then analyses the
     * source's bad packets without having switched it itself (the run's verdict, copied). Its
     * 100 earlier ones stay dropped: 100 for the run, not per thread. */
    struct two_threads tt = two_threads_new(8);
    struct packet p = from(4, 9);
    cr_expect_eq(judge_n(tt.t1, &p, CHECKSUM_BAD, 50, CHECKSUM_VERDICT_DROP), 50);
    cr_expect_eq(judge_n(tt.t2, &p, CHECKSUM_BAD, 50, CHECKSUM_VERDICT_DROP), 50);
    struct checksum_source_counts n = {0};
    cr_expect_eq(checksum_policy_judge(tt.t1, &p, CHECKSUM_BAD, &n), CHECKSUM_VERDICT_SWITCHED);
    cr_expect_eq(n.checked, 101);
    cr_expect_eq(n.bad, 101);
    cr_expect_eq(judge_n(tt.t2, &p, CHECKSUM_BAD, 30, CHECKSUM_VERDICT_ANALYSE), 30);
    cr_expect_eq(judge_n(tt.t1, &p, CHECKSUM_BAD, 30, CHECKSUM_VERDICT_ANALYSE), 30);
    cr_expect_eq(checksum_policy_sources(tt.run), 1);
    two_threads_free(&tt);
}

Test(checksum_policy, a_thread_keeps_a_settled_source_and_the_run_its_untracked) {
    /* Near miss of the above: 950 good and 50 bad from T1 end the source's window at 5 % (not
     * offloading); T2's 200 bad ones after it count toward nothing (all dropped), however many.
     * A run table of one entry: a second source takes over A's settled entry and, still in its
     * window, leaves a third untracked, counted in the run's policy, not the thread's. */
    struct two_threads tt = two_threads_new(1);
    struct packet a = from(4, 1), b = from(4, 2), c = from(4, 3);
    judge_n(tt.t1, &a, CHECKSUM_GOOD, 950, CHECKSUM_VERDICT_ANALYSE);
    cr_expect_eq(judge_n(tt.t1, &a, CHECKSUM_BAD, 50, CHECKSUM_VERDICT_DROP), 50);
    cr_expect_eq(judge_n(tt.t2, &a, CHECKSUM_BAD, 200, CHECKSUM_VERDICT_DROP), 200);
    judge_n(tt.t2, &b, CHECKSUM_GOOD, 1, CHECKSUM_VERDICT_ANALYSE);
    cr_expect_eq(judge_n(tt.t1, &c, CHECKSUM_BAD, 150, CHECKSUM_VERDICT_DROP), 150);
    cr_expect_eq(checksum_policy_untracked(tt.run), 150);
    cr_expect_eq(checksum_policy_untracked(tt.t1), 0);
    two_threads_free(&tt);
}

/* A thread judging BAD_RUN bad packets of one source through its own policy of the run's. */
#define BAD_RUN 3000
struct judging_thread {
    struct checksum_policy *cp;
    unsigned dropped, switched;
};

static void *judge_bad_packets(void *arg) {
    struct judging_thread *j = arg;
    struct packet p = from(4, 9);
    for (unsigned i = 0; i < BAD_RUN; i++) {
        enum checksum_verdict v = checksum_policy_judge(j->cp, &p, CHECKSUM_BAD, NULL);
        j->dropped += v == CHECKSUM_VERDICT_DROP;
        j->switched += v == CHECKSUM_VERDICT_SWITCHED;
    }
    return NULL;
}

Test(checksum_policy, concurrent_threads_switch_a_source_once) {
    /* Four threads at once, BAD_RUN bad packets of one source each, in whatever interleaving
     * the scheduler makes: the first 100 the run judges are dropped and the 101st switches it,
     * whichever threads they came from — 100 dropped and 1 switch in all (with a policy per
     * thread: 400 and 4). */
    struct checksum_policy *run = checksum_policy_new(CHECKSUM_MODE_AUTO, 64);
    struct judging_thread j[4] = {0};
    pthread_t id[4];
    for (int i = 0; i < 4; i++) {
        j[i].cp = checksum_policy_new_thread(run, 64);
        cr_assert_not_null(j[i].cp);
        cr_assert_eq(pthread_create(&id[i], NULL, judge_bad_packets, &j[i]), 0);
    }
    unsigned dropped = 0, switched = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(id[i], NULL);
        dropped += j[i].dropped;
        switched += j[i].switched;
        checksum_policy_free(j[i].cp);
    }
    cr_expect_eq(dropped, CHECKSUM_POLICY_BAD_MAX);
    cr_expect_eq(switched, 1);
    checksum_policy_free(run);
}

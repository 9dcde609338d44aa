/* SPDX-License-Identifier: MIT */
/* test_sim_drv_rt.c - the driver's side of the runtime contract (issue 10), on the simulated
 * podman: the status/state file names of drv_cfg, calls that fail asynchronously
 * (BACKEND_EV_CALL_FAILED). */
#include "sim_env.h"

/* ------------------------------------------------------------------ status/state file names */

/* The original names the files after the executable (`.<basename>.status`): a pod executable
 * named `web` passes ".web.status" / ".web.state", and nothing else is written. */
static void test_drv__status_file_names_from_cfg(void **state)
{
    (void)state;
    struct env *e = env_new(POD1, false);
    struct pod_err err = POD_ERR_ZERO;
    struct drv_cfg dc = drv_cfg_of(e, 1);
    dc.status_file = ".web.status";
    dc.state_file = ".web.state";
    assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 3000);
    char *txt = NULL;
    size_t len;
    assert_int_equal(fs_mem_get(e->mem, "pod/.web.status", &txt, &len), 0);
    assert_int_equal(drv_status_check(txt, len, &err), 0);
    free(txt);
    assert_int_equal(fs_mem_get(e->mem, "pod/.web.state", &txt, &len), 0);
    assert_non_null(strstr(txt, "\"sup\":"));
    free(txt);
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATUS_FILE, &txt, &len), -1);
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATE_FILE, &txt, &len), -1);
    env_free(e);
}

/* NULL keeps the defaults; a name with a slash, "", "." or ".." is refused. */
static void test_drv__status_file_names_checked(void **state)
{
    (void)state;
    static const char *const bad[] = {"", "a/b", ".", "..", "/abs"};
    struct env *e = env_new(POD1, false);
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        struct pod_err err = POD_ERR_ZERO;
        struct drv_cfg dc = drv_cfg_of(e, 1);
        dc.state_file = bad[k];
        struct drv *d = NULL;
        assert_int_equal(drv_new(&dc, &d, &err), -1);
        assert_non_null(strstr(err.msg, "plain file names"));
        assert_null(d);
    }
    struct pod_err err = POD_ERR_ZERO;
    struct drv_cfg dc = drv_cfg_of(e, 1);
    assert_int_equal(drv_new(&dc, &e->drv, &err), 0);
    drv_flush_status(e->drv);
    char *txt = NULL;
    size_t len;
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATUS_FILE, &txt, &len), 0);
    free(txt);
    assert_int_equal(fs_mem_get(e->mem, "pod/" DRV_STATE_FILE, &txt, &len), 0);
    free(txt);
    env_free(e);
}

/* ------------------------------------------------------------------ asynchronous failures */

/* A stop that returned 0 and failed 300 ms later (BACKEND_EV_CALL_FAILED, op STOP) is retried
 * 1 s after the failure, as one that failed at once. */
static void test_drv__async_stop_failure_is_retried(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "fault stop fail-async after 300ms times 1\n", true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 1000);
    ev.type = SUP_EV_STOP_POD;
    drv_input(e->drv, &ev);
    run_until(e, 1300);
    assert_true(backend_sim_obs(e->bs, 0)->running);
    assert_non_null(strstr(e->trace.data, "1300 web call-failed stop (async): sim: injected"));
    run_until(e, 30000);
    assert_non_null(strstr(e->trace.data, "2300 web note retry stop of instance 1 (the call"));
    assert_false(backend_sim_obs(e->bs, 0)->running);
    assert_true(drv_pod_stopped(e->drv));
    env_free(e);
}

/* op KILL with SIGKILL is the supervisor's CTR_KILL (retried), with another signal its SIGNAL
 * (noted, not retried). */
static void test_drv__async_kill_failure_maps_by_signal(void **state)
{
    (void)state;
    struct env *e = env_new(POD1 "fault kill fail-async after 50ms times 1\n", true);
    struct sup_event ev = {.type = SUP_EV_START_POD};
    drv_input(e->drv, &ev);
    run_until(e, 1000);
    ev.type = SUP_EV_KILL_POD;
    drv_input(e->drv, &ev);
    run_until(e, 20000);
    assert_non_null(strstr(e->trace.data, "1050 web call-failed kill (async)"));
    assert_non_null(strstr(e->trace.data, "2050 web note retry SIGKILL of instance 1"));
    assert_true(drv_pod_stopped(e->drv));
    assert_false(backend_sim_obs(e->bs, 0)->running);
    env_free(e);
    e = env_new(POD1 "fault kill fail-async after 50ms times 1\n", true);
    ev.type = SUP_EV_START_POD;
    drv_input(e->drv, &ev);
    run_until(e, 1000);
    /* no signal is configured: the supervisor never sends one; the backend reports one anyway */
    struct pod_err err = POD_ERR_ZERO;
    assert_int_equal(e->be.ops->ctr_kill(e->be.self, 0, 1, 1, &err), 0);
    run_until(e, 2000);
    assert_non_null(strstr(e->trace.data, "1050 web call-failed signal (async)"));
    assert_non_null(strstr(e->trace.data, "1050 web note signal 1 failed"));
    env_free(e);
}

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_drv__status_file_names_from_cfg),
        cmocka_unit_test(test_drv__status_file_names_checked),
        cmocka_unit_test(test_drv__async_stop_failure_is_retried),
        cmocka_unit_test(test_drv__async_kill_failure_maps_by_signal),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}

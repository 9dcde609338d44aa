/* SPDX-License-Identifier: MIT */
/* test_sim_drv_rt.c - the driver's side of the runtime contract (issue 10), on the simulated
 * podman: the status/state file names of drv_cfg. */
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

int main(void)
{
    const struct CMUnitTest t[] = {
        cmocka_unit_test(test_drv__status_file_names_from_cfg),
        cmocka_unit_test(test_drv__status_file_names_checked),
    };
    return cmocka_run_group_tests(t, NULL, NULL);
}

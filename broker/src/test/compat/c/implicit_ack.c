/*
 * librdkafka's idempotence test 0090 "implicit ack", as a stand-alone program: an idempotent
 * producer whose first Produce responses (all but the very first, up to FAIL) are reported to it
 * as timed out although the broker stored the batches, through librdkafka's
 * ut_handle_ProduceResponse hook. The producer retries them while later batches are acknowledged;
 * every message must be delivered, and the partition must hold each one once, in order.
 *
 * usage: implicit_ack BOOTSTRAP TOPIC BATCHES FAIL
 * prints: delivered=N failed=N
 */
#include <librdkafka/rdkafka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail_first;
static volatile int produce_responses;
static int delivered, failed;

static rd_kafka_resp_err_t on_response(rd_kafka_t *rk, int32_t brokerid, uint64_t msgid,
                                       rd_kafka_resp_err_t err) {
        int n;
        (void)rk;
        (void)brokerid;
        (void)msgid;
        if (err == RD_KAFKA_RESP_ERR__RETRY)
                return err;
        n = __sync_add_and_fetch(&produce_responses, 1);
        return n > 1 && n <= fail_first ? RD_KAFKA_RESP_ERR__TIMED_OUT : err;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err) {
                if (failed++ < 3)
                        fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
        } else {
                delivered++;
        }
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value) {
        char err[256];
        if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", key, err);
                exit(2);
        }
}

int main(int argc, char **argv) {
        char err[256];
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        int batches, count, i;

        if (argc != 5) {
                fprintf(stderr, "usage: implicit_ack BOOTSTRAP TOPIC BATCHES FAIL\n");
                return 2;
        }
        batches    = atoi(argv[3]);
        fail_first = atoi(argv[4]);
        count      = 10 * batches;
        conf       = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "enable.idempotence", "true");
        set(conf, "batch.num.messages", "10");
        set(conf, "linger.ms", "500");
        set(conf, "retry.backoff.ms", "10");
        set(conf, "message.timeout.ms", "60000");
        set(conf, "ut_handle_ProduceResponse", (const char *)on_response);
        rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", err);
                return 2;
        }
        for (i = 0; i < count; i++) {
                char value[32];
                snprintf(value, sizeof(value), "m-%d", i);
                while (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(0),
                                         RD_KAFKA_V_VALUE(value, strlen(value)),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR__QUEUE_FULL)
                        rd_kafka_poll(rk, 10);
                rd_kafka_poll(rk, 0);
        }
        rd_kafka_flush(rk, 90000);
        printf("delivered=%d failed=%d\n", delivered, failed);
        rd_kafka_destroy(rk);
        return 0;
}

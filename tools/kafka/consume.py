#!/usr/bin/env python3
"""Reads the messages of a topic with confluent-kafka (librdkafka), independent of the sensor's
Rust client, and writes them to stdout in a binary-safe framing for the tests:

    PARTITION OFFSET KEYLEN VALUELEN\n KEY VALUE \n HEADERS-JSON\n

KEYLEN is -1 for a null key. HEADERS-JSON is an object of header name -> UTF-8 value. Output is
sorted by partition, then offset.

Reads from the beginning of every partition until EXPECTED messages arrived, then half a second
more to catch extras (the test compares counts). Not by high watermark: tansu 0.6 reports the
last batch's base offset + 1 as the high watermark, not the offset after its last record. Exits
non-zero if EXPECTED messages do not arrive within 20 s.

usage: consume.py BROKER TOPIC EXPECTED
"""
import json
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition


def main():
    broker, topic, expected = sys.argv[1], sys.argv[2], int(sys.argv[3])
    c = Consumer({
        "bootstrap.servers": broker,
        "group.id": "oisp-kafka-tests",
        "enable.auto.commit": False,
    })
    md = c.list_topics(topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        sys.exit(f"consume.py: topic {topic}: {t.error if t else 'missing'}")
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in sorted(t.partitions)])
    msgs = []
    deadline = time.monotonic() + 20
    extra_until = None
    while True:
        now = time.monotonic()
        if extra_until is None and len(msgs) >= expected:
            extra_until = now + 0.5
        if extra_until is not None and now >= extra_until:
            break
        if extra_until is None and now >= deadline:
            sys.exit(f"consume.py: {topic}: {len(msgs)} of {expected} messages after 20 s")
        m = c.poll(0.1)
        if m is None:
            continue
        if m.error():
            raise KafkaException(m.error())
        msgs.append(m)
    c.close()
    out = sys.stdout.buffer
    for m in sorted(msgs, key=lambda m: (m.partition(), m.offset())):
        key, value = m.key(), m.value() or b""
        headers = {k: v.decode() for k, v in (m.headers() or [])}
        out.write(f"{m.partition()} {m.offset()} {len(key) if key is not None else -1} "
                  f"{len(value)}\n".encode())
        out.write((key or b"") + value + b"\n")
        out.write(json.dumps(headers).encode() + b"\n")


if __name__ == "__main__":
    main()

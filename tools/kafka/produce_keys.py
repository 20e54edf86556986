#!/usr/bin/env python3
"""Produces one message per key (value b"librdkafka-murmur2") with confluent-kafka's
murmur2_random partitioner, the Java client's default for keyed records. The tests use it to check
that the sensor puts each key on the same partition as other Kafka producers would.

usage: produce_keys.py BROKER TOPIC < keys (one per line)
"""
import sys

from confluent_kafka import Producer


def main():
    broker, topic = sys.argv[1], sys.argv[2]
    keys = [k for k in sys.stdin.read().split("\n") if k]
    errors = []
    p = Producer({"bootstrap.servers": broker, "partitioner": "murmur2_random"})
    for k in keys:
        p.produce(topic, key=k.encode(), value=b"librdkafka-murmur2",
                  on_delivery=lambda err, msg: err and errors.append(str(err)))
    left = p.flush(20)
    if left or errors:
        sys.exit(f"produce_keys.py: {left} not delivered, errors: {errors}")


if __name__ == "__main__":
    main()

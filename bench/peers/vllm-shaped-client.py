#!/usr/bin/env python3
"""A streamed-chat benchmark client of the same shape as vLLM's own (`vllm bench serve`, its
async_request_openai_chat_completions in vllm/benchmarks/lib/endpoint_request_func.py), written for medeval's
benchmarks; it is not vLLM's code. Like vLLM's client: one shared aiohttp ClientSession over a TCPConnector
(keep-alive, limited to the concurrency), a POST of {model, messages, max_completion_tokens, stream: true,
stream_options: {include_usage: true}} per request, the body read with content.iter_any() and split into SSE
messages on blank lines, "data: " stripped, "[DONE]" skipped, each JSON chunk parsed, TTFT at the first
content and inter-token gaps after it timed with time.perf_counter(), the usage chunk's completion_tokens kept,
and a request that sent no text counted as failed. A semaphore holds `--concurrency` requests in flight
(vLLM's --max-concurrency) over `--requests` requests.

Prints one JSON line: requests, failed, the measured loop's wall and CPU seconds (time.process_time), and
the process's CPU and wall since it started, start-up included.
Usage: vllm-shaped-client.py --url http://127.0.0.1:PORT/v1/chat/completions --requests N --concurrency C
"""
import argparse
import asyncio
import json
import resource
import time

T_START = time.perf_counter()

import aiohttp  # noqa: E402  (imported after the start clock: module loading is start-up)


class SseMessages:
    """Accumulates bytes until complete SSE messages (a blank line) are there."""

    def __init__(self):
        self.buffer = ""

    def add(self, data: bytes):
        self.buffer += data.decode("utf-8")
        out = []
        while "\n\n" in self.buffer:
            message, self.buffer = self.buffer.split("\n\n", 1)
            message = message.strip()
            if message:
                out.append(message)
        return out


async def one_request(session, url, model, prompt, max_tokens):
    payload = {
        "model": model,
        "messages": [{"role": "user", "content": prompt}],
        "temperature": 0.0,
        "max_completion_tokens": max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    text = ""
    ttft = 0.0
    itl = []
    output_tokens = 0
    start = time.perf_counter()
    last = start
    async with session.post(url=url, json=payload, headers={"Content-Type": "application/json"}) as response:
        if response.status != 200:
            return False
        messages = SseMessages()
        async for chunk in response.content.iter_any():
            for message in messages.add(chunk):
                if not message.startswith("data:"):
                    continue
                data = message[len("data:"):].strip()
                if data == "[DONE]":
                    continue
                body = json.loads(data)
                choices = body.get("choices")
                if choices:
                    content = choices[0]["delta"].get("content")
                    now = time.perf_counter()
                    if content:
                        if ttft == 0.0:
                            ttft = now - start
                        else:
                            itl.append(now - last)
                        last = now
                        text += content
                elif body.get("usage"):
                    output_tokens = body["usage"].get("completion_tokens") or 0
    latency = last - start
    return bool(text) and ttft > 0 and latency >= ttft and output_tokens >= 0


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--model", default="bench/instant")
    p.add_argument("--requests", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=1)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--max-tokens", type=int, default=8)
    a = p.parse_args()
    connector = aiohttp.TCPConnector(limit=a.concurrency, limit_per_host=a.concurrency, keepalive_timeout=60, force_close=False)
    timeout = aiohttp.ClientTimeout(total=6 * 60 * 60)
    prompts = [f"Question {i}: which option is correct? A, B, C, D or E." for i in range(a.requests)]
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, trust_env=True) as session:
        for i in range(a.warmup):
            await one_request(session, a.url, a.model, f"warm-up {i}", a.max_tokens)
        limit = asyncio.Semaphore(a.concurrency)

        async def limited(prompt):
            async with limit:
                return await one_request(session, a.url, a.model, prompt, a.max_tokens)

        cpu0 = time.process_time()
        t0 = time.perf_counter()
        outcomes = await asyncio.gather(*(limited(x) for x in prompts))
        wall = time.perf_counter() - t0
        cpu = time.process_time() - cpu0
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({
        "requests": len(outcomes),
        "failed": sum(1 for ok in outcomes if not ok),
        "loopWallS": wall,
        "loopCpuS": cpu,
        "startupWallS": t0 - T_START,
        "processCpuS": usage.ru_utime + usage.ru_stime,
        "processWallS": time.perf_counter() - T_START,
        "maxRssKb": usage.ru_maxrss,
    }))


asyncio.run(main())

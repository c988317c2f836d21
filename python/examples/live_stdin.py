"""Live transcription of raw 16-bit mono PCM on stdin, printed as it is decided:

    arecord -q -f S16_LE -r 16000 -c 1 | python3 live_stdin.py [MODEL]
    ffmpeg -loglevel error -i talk.mp3 -f s16le -ar 16000 -ac 1 - | python3 live_stdin.py [MODEL]
"""
import os
import sys

import numpy as np

import voxtral_rt

CHUNK_BYTES = 2560  # 80 ms at 16 kHz


def chunks(stream):
    while True:
        data = stream.read(CHUNK_BYTES)  # blocks for a whole chunk, except at the end
        if not data:
            return
        yield np.frombuffer(data[: len(data) // 2 * 2], dtype=np.int16)


def main():
    model = voxtral_rt.Model(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VRT_MODEL", voxtral_rt.DEFAULT_MODEL))
    for text in model.stream(chunks(sys.stdin.buffer), sample_rate=16000):
        print(text, end="", flush=True)
    print()


if __name__ == "__main__":
    main()

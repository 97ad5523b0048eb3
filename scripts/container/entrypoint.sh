#!/bin/sh
# The image's entry point. With no arguments the container serves, as TGI's image does: the model named by
# HF_MODEL_ID (a Hub id, or a folder such as a mounted volume; MODEL is read when HF_MODEL_ID is unset) on
# 0.0.0.0:$PORT (8080). `serve` is SageMaker's entry point (`docker run IMAGE serve`); arguments that start with
# a dash are `serve` flags (`docker run IMAGE --model /models/x`); any other first word is an r1serve command
# (`pull`, `run`, `lambda`, ...).
set -e
if [ -z "${HF_MODEL_ID:-}" ] && [ -n "${MODEL:-}" ]; then
  export HF_MODEL_ID="$MODEL"
fi
if [ $# -eq 0 ]; then
  set -- serve
elif [ "${1#-}" != "$1" ]; then
  set -- serve "$@"
fi
exec /usr/local/bin/r1serve "$@"

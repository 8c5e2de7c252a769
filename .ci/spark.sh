#!/usr/bin/env bash
# Make sure a Java 17+ runtime is installed for the Spark tests (PySpark in local mode,
# from the `spark` extra) and print its JAVA_HOME on stdout, for
#     export JAVA_HOME="$(bash .ci/spark.sh)"
# Installs Debian's openjdk-17-jre-headless only when `java -version` is not 17 or newer.
# Debian/Ubuntu (apt-get) only; everything but JAVA_HOME goes to stderr.
set -euo pipefail

java_major() {  # the major version of the java on PATH, or 0
    local version
    version=$(java -version 2>&1 | awk -F'"' '/version/ { print $2; exit }') || true
    version=${version#1.}
    echo "${version%%[.+-]*}" | grep -E '^[0-9]+$' || echo 0
}

if ! command -v java > /dev/null 2>&1 || [ "$(java_major)" -lt 17 ]; then
    . "$(dirname "$0")/apt-install.sh"
    apt_install openjdk-17-jre-headless
    if [ -x /usr/lib/jvm/java-17-openjdk-amd64/bin/java ] && [ "$(java_major)" -lt 17 ]; then
        export PATH="/usr/lib/jvm/java-17-openjdk-amd64/bin:$PATH"
    fi
fi

java_bin=$(readlink -f "$(command -v java)")
if [ "$(java_major)" -lt 17 ]; then
    echo "spark.sh: $java_bin is Java $(java_major); Spark needs 17 or newer" >&2
    exit 1
fi
echo "spark.sh: Java $(java_major) at $java_bin" >&2
dirname "$(dirname "$java_bin")"

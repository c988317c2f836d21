"""Builds libvrt.so (the C API, include/vrt.h) with CMake and puts it into the package.

The package is pure Python over ctypes; the engine is the C++ library of the source tree this
folder belongs to. Environment:
  VOXTRAL_RT_BUILD_DIR  CMake build tree to use (default: build-python/ in the source tree). An
                        already configured tree (e.g. the test build, build/) is only asked to
                        build the `vrt` target, so its options stay as they are.
  CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: all cores).
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import Distribution, setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent


class BinaryDistribution(Distribution):
    """The wheel holds a native library: tag it for this platform, not as pure Python."""

    def has_ext_modules(self):
        return True


def build_library() -> Path:
    if not (SOURCE / "CMakeLists.txt").is_file() or not (SOURCE / "include" / "vrt.h").is_file():
        raise SystemExit(f"voxtral_rt: {SOURCE} is not the voxtral-rt source tree; install from a checkout "
                         "(pip install --no-build-isolation ./python)")
    if shutil.which("cmake") is None:
        raise SystemExit("voxtral_rt: cmake is not installed; run scripts/setup.sh --packages-only "
                         "(or apt-get install the packages README.md lists)")
    build = Path(os.environ.get("VOXTRAL_RT_BUILD_DIR") or SOURCE / "build-python").resolve()
    if not (build / "CMakeCache.txt").is_file():
        generator = ["-G", "Ninja"] if shutil.which("ninja") else []
        subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build), *generator, "-DCMAKE_BUILD_TYPE=Release",
                        "-DVRT_BUILD_TESTS=OFF", "-DVRT_BUILD_BENCH=OFF", "-DVRT_MIC=OFF"], check=True)
    jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
    subprocess.run(["cmake", "--build", str(build), "--target", "vrt", "-j", jobs], check=True)
    library = build / "lib" / "libvrt.so"
    if not library.is_file():
        raise SystemExit(f"voxtral_rt: the build did not produce {library}")
    return library


class BuildPyWithLibrary(build_py):
    def run(self):
        super().run()
        target = Path(self.build_lib) / "voxtral_rt" / "libvrt.so"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(build_library(), target)


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPyWithLibrary})

# sd_notify readiness and watchdog pings (program/notify.c) through libsystemd when its
# development files (Debian: libsystemd-dev) are found at configure time; without them shakedown
# builds the same and the calls do nothing. -DSHAKEDOWN_SYSTEMD=OFF leaves libsystemd out even
# when it is there.
option(SHAKEDOWN_SYSTEMD "sd_notify readiness and watchdog through libsystemd, if found" ON)
if(SHAKEDOWN_SYSTEMD)
  pkg_check_modules(SYSTEMD IMPORTED_TARGET libsystemd)
endif()
if(SHAKEDOWN_SYSTEMD AND SYSTEMD_FOUND)
  target_compile_definitions(shakedown_program PRIVATE SHAKEDOWN_HAVE_SYSTEMD=1)
  target_link_libraries(shakedown_program PUBLIC PkgConfig::SYSTEMD)
  message(STATUS "sd_notify: libsystemd ${SYSTEMD_VERSION}")
else()
  message(STATUS "sd_notify: without libsystemd (readiness and watchdog calls do nothing)")
endif()

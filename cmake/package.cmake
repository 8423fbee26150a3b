# Installation and the Debian package (docs/deploy.md says why CPack's DEB generator rather than a
# debian/ directory). `make install` puts the program, the man page, the documentation and the JSON
# Schema under CMAKE_INSTALL_PREFIX, and the sensor's files — the systemd unit, the default
# configuration, the logrotate file — where the system looks for them. scripts/build-deb.sh
# configures with the prefix /usr and Debian's build flags, runs `cpack -G DEB` and lintian.
include(GNUInstallDirs)

# Where the sensor's files go: the Debian places with the prefix /usr (/etc, /lib/systemd/system:
# bookworm keeps units in /lib), under the prefix otherwise. The log directory is systemd's
# (LogsDirectory=shakedown), whatever the prefix.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(SHAKEDOWN_UNITDIR /lib/systemd/system)
else()
  set(SHAKEDOWN_UNITDIR ${CMAKE_INSTALL_PREFIX}/lib/systemd/system)
endif()
set(SHAKEDOWN_BINDIR ${CMAKE_INSTALL_FULL_BINDIR})
set(SHAKEDOWN_SYSCONFDIR ${CMAKE_INSTALL_FULL_SYSCONFDIR})
set(SHAKEDOWN_CONFIG ${SHAKEDOWN_SYSCONFDIR}/shakedown/shakedown.conf)
set(SHAKEDOWN_DOCDIR ${CMAKE_INSTALL_FULL_DATAROOTDIR}/doc/shakedown)
set(SHAKEDOWN_LOGDIR /var/log/shakedown)
# Type=notify and a watchdog only when the program can tell systemd (cmake/systemd.cmake): a
# Type=notify service that never says READY=1 would be killed at start.
if(SHAKEDOWN_SYSTEMD AND SYSTEMD_FOUND)
  set(SHAKEDOWN_UNIT_TYPE notify)
  set(SHAKEDOWN_UNIT_WATCHDOG "NotifyAccess=main\nWatchdogSec=30s")
else()
  set(SHAKEDOWN_UNIT_TYPE simple)
  set(SHAKEDOWN_UNIT_WATCHDOG "# (built without libsystemd: no readiness or watchdog)")
endif()
string(REPLACE "\\n" "\n" SHAKEDOWN_UNIT_WATCHDOG "${SHAKEDOWN_UNIT_WATCHDOG}")
configure_file(dist/systemd/shakedown@.service.in ${PROJECT_BINARY_DIR}/shakedown@.service @ONLY)

# The man page compressed (Debian policy 12.1), the changelog as Debian wants it.
find_program(GZIP_PROGRAM gzip REQUIRED)
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/shakedown.1.gz
  COMMAND ${GZIP_PROGRAM} -9n -c ${PROJECT_SOURCE_DIR}/docs/shakedown.1 > shakedown.1.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/docs/shakedown.1 WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
add_custom_command(OUTPUT ${PROJECT_BINARY_DIR}/changelog.Debian.gz
  COMMAND ${GZIP_PROGRAM} -9n -c ${PROJECT_SOURCE_DIR}/dist/debian/changelog > changelog.Debian.gz
  DEPENDS ${PROJECT_SOURCE_DIR}/dist/debian/changelog WORKING_DIRECTORY ${PROJECT_BINARY_DIR})
add_custom_target(shakedown_install_files ALL
  DEPENDS ${PROJECT_BINARY_DIR}/shakedown.1.gz ${PROJECT_BINARY_DIR}/changelog.Debian.gz)

install(TARGETS shakedown RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES ${PROJECT_BINARY_DIR}/shakedown.1.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES README.md docs/deploy.md docs/schema.md dist/debian/copyright
              ${PROJECT_BINARY_DIR}/changelog.Debian.gz
        DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(FILES docs/shakedown.schema.json DESTINATION ${CMAKE_INSTALL_DATADIR}/shakedown)
# The drop-in that lets the unit reach syslog or Redis receivers (the unit allows no IP sockets).
install(FILES dist/systemd/network-output.conf DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${PROJECT_BINARY_DIR}/shakedown@.service DESTINATION ${SHAKEDOWN_UNITDIR})
install(FILES dist/shakedown.conf DESTINATION ${SHAKEDOWN_SYSCONFDIR}/shakedown)
install(FILES dist/logrotate/shakedown DESTINATION ${SHAKEDOWN_SYSCONFDIR}/logrotate.d)

# The package: runtime dependencies computed by dpkg-shlibdeps from the libraries the binary
# links (libpcap0.8, libssl3, libhiredis0.14, zlib1g, libzstd1, liblzma5, libsystemd0, libc6),
# so they are never out of step with the build.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shakedown)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "shakedown maintainers <shakedown@lists.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "passive TCP connection analyzer")
set(CPACK_PACKAGE_DESCRIPTION
    "shakedown reads packets from pcap/pcapng captures or watches a network\n"
    "interface and reconstructs what every TCP connection did: handshake, data,\n"
    "teardown, and what went wrong (half-open handshakes, resets, data after FIN,\n"
    "retransmissions, SYN floods, port scans). It writes one record per\n"
    "connection as it ends: a table on a terminal, or JSON lines, Zeek conn.log,\n"
    "Suricata EVE or ECS, to a file, syslog or Redis.\n"
    "\n"
    "The package runs it as a sensor: shakedown@IFACE.service, sandboxed, with\n"
    "its configuration in /etc/shakedown and its records in /var/log/shakedown.")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS logrotate)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/dist/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
include(CPack)

/* report_page: the HTML report's page (output/report_page.html), compiled in by the build
 * (scripts/embed.cmake) as a NUL-terminated string; report.c writes it around the data. */
#ifndef SHAKEDOWN_REPORT_PAGE_H
#define SHAKEDOWN_REPORT_PAGE_H

extern const unsigned char report_page[];

#endif

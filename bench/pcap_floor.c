/* pcap_floor: the capture-reading floor of the benchmark — libpcap reads every packet of a file
 * and does nothing with it. No tool that reads captures with libpcap can be faster. */
#define _DEFAULT_SOURCE 1 /* libpcap's headers use u_int and friends */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv) {
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: pcap_floor FILE\n");
        return 2;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap_floor: %s\n", err);
        return 2;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long n = 0, bytes = 0;
    while (pcap_next_ex(p, &h, &data) == 1) {
        n++;
        bytes += h->caplen;
    }
    printf("%lu packets %lu bytes\n", n, bytes);
    pcap_close(p);
    return 0;
}

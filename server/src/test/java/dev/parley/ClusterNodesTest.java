package dev.parley;

import dev.parley.chat.Admin;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** What a node reports of itself to the others, read back as another node's entry; a report that cannot be read is left out. */
class ClusterNodesTest {
    @Test
    void a_report_reads_back_as_another_nodes_entry() {
        Admin.Node me = new Admin.Node("node-a", true, false, true, true, false, true, 42, 1_000, 2_000);
        Admin.Node read = ClusterNodes.parse("node-a", ClusterNodes.json(me).encode());
        assertThat(read).isEqualTo(new Admin.Node("node-a", false, false, true, true, false, true, 42, 1_000, 2_000));
    }

    @Test
    void a_report_that_is_no_json_object_is_left_out_and_missing_fields_count_as_down() {
        assertThat(ClusterNodes.parse("node-b", "not json")).isNull();
        assertThat(ClusterNodes.parse("node-b", "[1]")).isNull();
        assertThat(ClusterNodes.parse("node-b", "{}")).isEqualTo(new Admin.Node("node-b", false, false, false, false, false, false, 0, 0, 0));
    }
}

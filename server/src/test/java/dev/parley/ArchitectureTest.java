package dev.parley;

import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.junit.AnalyzeClasses;
import com.tngtech.archunit.junit.ArchTest;
import com.tngtech.archunit.lang.ArchRule;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackage;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The package rules of docs/ARCHITECTURE.md, as a test: dependencies point one way, and the
 * directions that must never be are not. Read from the compiled classes, so a dependency through
 * a return type or a lambda counts as much as an import.
 */
@AnalyzeClasses(packages = "dev.parley", importOptions = ImportOption.DoNotIncludeTests.class)
class ArchitectureTest {
    @ArchTest
    static final ArchRule no_package_cycles = slices().matching("dev.parley.(*)..").should().beFreeOfCycles();

    @ArchTest
    static final ArchRule the_backends_know_nothing_of_the_transports = noClasses()
            .that().resideInAnyPackage("dev.parley.store..", "dev.parley.broker..", "dev.parley.presence..", "dev.parley.delivery..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.parley.ws..", "dev.parley.http..");

    @ArchTest
    static final ArchRule the_transports_reach_storage_only_through_the_use_cases = noClasses()
            .that().resideInAnyPackage("dev.parley.ws..", "dev.parley.http..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.parley.store..");

    @ArchTest
    static final ArchRule metrics_observes_without_importing_what_it_measures = noClasses()
            .that().resideInAPackage("dev.parley.metrics..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.parley.chat..", "dev.parley.store..", "dev.parley.delivery..");

    @ArchTest
    static final ArchRule delivery_is_below_the_use_cases = noClasses()
            .that().resideInAPackage("dev.parley.delivery..")
            .should().dependOnClassesThat().resideInAnyPackage("dev.parley.chat..", "dev.parley.auth..", "dev.parley.config..");

    @ArchTest
    static final ArchRule the_shared_values_are_a_leaf = noClasses()
            .that().resideInAPackage("dev.parley.event..")
            .should().dependOnClassesThat(resideInAPackage("dev.parley..").and(resideOutsideOfPackage("dev.parley.event..")));

    /** The client library (client/) is its own module, for users too: it imports nothing of the server. */
    @ArchTest
    static final ArchRule the_client_library_knows_nothing_of_the_server = noClasses()
            .that().resideInAPackage("dev.parley.client..")
            .should().dependOnClassesThat(resideInAPackage("dev.parley..").and(resideOutsideOfPackage("dev.parley.client..")));

    /** In the server, only the commands ({@code parley client}) talk to a server as a client does. */
    @ArchTest
    static final ArchRule only_the_commands_use_the_client_library = noClasses()
            .that().resideOutsideOfPackages("dev.parley.client..", "dev.parley.cli..")
            .should().dependOnClassesThat().resideInAPackage("dev.parley.client..");
}
